#include "catalog/landing.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/zones.h"

namespace sluice::catalog {

using meta::LandingState;

std::vector<LandingEntry> ListLanding(const std::string& source,
                                      std::optional<meta::LandingState> state, lake::Store& store,
                                      meta::Metastore& metastore) {
  std::map<std::string, LandingEntry> by_key;
  for (const auto& obj : lake::ListAll(store, lake::zones::LandingPrefix(source))) {
    by_key[obj.key] = {obj.key, source, LandingState::kWaiting, obj.size, 0, "", "", 0, ""};
  }
  if (auto table = metastore.GetTable("bronze", source)) {
    for (const auto& f : metastore.TableFiles(table->id, table->version, true)) {
      auto& entry = by_key[f.key];
      entry.key = f.key;
      entry.source = source;
      entry.state = meta::LandingStateOf(f.status);
      if (entry.size == 0) entry.size = f.size;
      entry.reason = f.reason;
    }
  }
  for (const auto& landed : metastore.ListLanded(source)) {
    if (auto it = by_key.find(landed.key); it != by_key.end())
      it->second.landed_ms = landed.landed_ms;
  }
  std::vector<LandingEntry> out;
  for (auto& [key, entry] : by_key) {
    if (!state || entry.state == *state) out.push_back(std::move(entry));
  }
  for (const auto& r : metastore.ListRemovals(source)) {
    if (state && *state != LandingState::kRemoved) break;
    out.push_back({r.file.key, source, LandingState::kRemoved, r.file.size, r.file.landed_ms,
                   r.reason, r.removed_by, r.removed_ms, r.moved_to});
  }
  return out;
}

std::string SourceOfKey(const std::string& key) {
  auto refuse = [&](const std::string& why) {
    FailWithCode(ErrorKind::kUsage, "landing.bad_key",
                 "'{}' is not a landing key: {}\n  hint: give the key as `sluice landing list` "
                 "prints it (landing/<source>/...)",
                 Visible(key), why);
  };
  if (ControlCharacterAt(key) != std::string::npos) refuse("it holds a control character");
  if (key.rfind("quarantine/landing/", 0) == 0) {
    refuse(
        "that file was already moved out of the landing zone, and its name is free to land "
        "again");
  }
  auto source = lake::zones::SourceOfLanded(key);
  if (!source) refuse("landing keys start with landing/<source>/");
  for (const auto& part : Split(key, '/')) {
    if (part.empty() || part == "." || part == "..") {
      refuse("it holds an empty, '.' or '..' part");
    }
  }
  if (key.size() <= lake::zones::LandingPrefix(*source).size()) refuse("it names no file");
  return *source;
}

std::string CurrentUser() {
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name && *pw->pw_name) {
    return pw->pw_name;
  }
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "unknown";
}

namespace {

// The entry of `key` among the source's landed files (not its removals), or throws
// landing.unknown_key naming the nearest key.
LandingEntry Find(const std::string& source, const std::string& key, lake::Store& store,
                  meta::Metastore& metastore) {
  std::vector<std::string> keys;
  for (auto& entry : ListLanding(source, std::nullopt, store, metastore)) {
    if (entry.state == LandingState::kRemoved) continue;
    if (entry.key == key) return entry;
    keys.push_back(entry.key);
  }
  std::string near = Nearest(key, keys);
  FailWithCode(ErrorKind::kUsage, "landing.unknown_key", "nothing landed as {}{}", Visible(key),
               near.empty() ? "" : fmt::format("; did you mean '{}'?", Visible(near)));
}

}  // namespace

Removed RemoveLanded(const std::string& source, const std::string& key, const std::string& reason,
                     const std::string& who, lake::Store& store, meta::Metastore& metastore) {
  if (Trim(reason).empty()) {
    FailWithCode(ErrorKind::kUsage, "landing.bad_reason",
                 "a removal needs a reason\n  hint: say why with --reason TEXT");
  }
  if (ControlCharacterAt(reason) != std::string::npos) {
    FailWithCode(ErrorKind::kUsage, "landing.bad_reason",
                 "the reason holds a control character ('{}'); write it on one line",
                 Visible(reason));
  }
  LandingEntry entry = Find(source, key, store, metastore);
  Removed out;
  out.was = entry.state;
  int64_t now = NowMs();
  meta::LandingRemoval& removal = out.removal;
  removal.file = {source, key, "", entry.size, entry.landed_ms};
  for (const auto& landed : metastore.ListLanded(source)) {
    if (landed.key == key) removal.file = landed;
  }
  removal.removed_ms = now;
  removal.removed_by = who;
  removal.reason = reason;
  removal.moved_to = lake::zones::RemovedLandedKey(source, now, key);
  // The bytes first: were the table to drop the file first and the move then fail, the next
  // crawl would register the file again. A table left pointing at the moved file is repaired by
  // running the same removal again.
  if (store.Stat(key)) store.Move(key, removal.moved_to);
  if (entry.state != LandingState::kWaiting) {
    auto table = metastore.GetTable("bronze", source);
    meta::Run run;
    run.id = metastore.StartRun("landing", source, "manual", "");
    run.kind = "landing";
    run.name = source;
    run.status = meta::RunStatus::kSucceeded;
    run.started_ms = now;
    run.ended_ms = NowMs();
    run.details = nlohmann::json{{"removed", key}, {"reason", reason}, {"by", who}}.dump();
    meta::TableChange change{table->db,     table->name,    table->kind,
                             table->format, table->options, table->columns};
    change.removed.push_back(key);
    change.change = fmt::format("landing remove {} by {}: {}", key, who, reason);
    change.base_version = table->version;
    meta::RunCommit commit;
    commit.run = run;
    commit.tables.push_back(change);
    metastore.CommitRun(commit);
    out.version = table->version + 1;
  }
  metastore.RecordRemoval(removal);
  return out;
}

Released ReleaseLanded(const project::Source& source, const std::string& key,
                       const std::string& snapshot, lake::Store& store, meta::Metastore& metastore,
                       engine::Connection& conn) {
  LandingEntry entry = Find(source.name, key, store, metastore);
  auto refuse = [&](const std::string& why) {
    FailWithCode(ErrorKind::kInput, "landing.not_releasable",
                 "{} is {}: only held or quarantined files are released", key, why);
  };
  if (entry.state == LandingState::kWaiting) {
    refuse(
        fmt::format("waiting (not crawled yet)\n  hint: `sluice crawl {}` crawls it", source.name));
  }
  if (entry.state == LandingState::kRegistered) {
    refuse(fmt::format("registered in bronze.{} already", source.name));
  }
  if (!store.Stat(key)) refuse("no longer in the landing zone");
  Released out;
  out.was = entry.state;
  out.report = Crawl(source, snapshot, store, metastore, conn, "manual", {key});
  out.now = LandingState::kRegistered;
  for (const auto& [k, reason] : out.report.held) {
    if (k == key) {
      out.now = LandingState::kHeld;
      out.reason = reason;
    }
  }
  for (const auto& [k, reason] : out.report.quarantined) {
    if (k == key) {
      out.now = LandingState::kQuarantined;
      out.reason = reason;
    }
  }
  return out;
}

}  // namespace sluice::catalog
