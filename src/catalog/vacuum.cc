#include "catalog/vacuum.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/redact.h"
#include "common/time.h"
#include "lake/zones.h"

namespace sluice::catalog {

namespace {

// The version a table keeps from: the newest one created at or before `cutoff` (it was current
// when the retention began), or the oldest one when all are younger.
int64_t KeepFrom(const std::vector<meta::TableVersion>& versions, int64_t cutoff) {
  int64_t keep = versions.empty() ? 0 : versions.front().version;
  for (const auto& v : versions) {
    if (v.created_ms <= cutoff) keep = std::max(keep, v.version);
  }
  return keep;
}

// The run that wrote a table file, from its name (part-<run>-<n>.parquet), or 0.
int64_t WritingRun(const std::string& key) {
  static const std::regex part(R"((?:^|/)part-(\d{1,18})-\d+\.[A-Za-z0-9.]+$)");
  std::smatch m;
  if (!std::regex_search(key, m, part)) return 0;
  return std::stoll(m[1].str());
}

}  // namespace

size_t VacuumReport::versions() const {
  size_t n = 0;
  for (const auto& t : tables) n += t.versions.size();
  return n;
}

size_t VacuumReport::files() const {
  size_t n = orphans.size();
  for (const auto& t : tables) n += t.files.size();
  return n;
}

uint64_t VacuumReport::bytes() const {
  uint64_t n = 0;
  for (const auto& o : orphans) n += o.size;
  for (const auto& t : tables) {
    for (const auto& f : t.files) n += f.size;
  }
  return n;
}

VacuumReport Vacuum(meta::Metastore& metastore, lake::Store& store, const VacuumOptions& options) {
  VacuumReport report;
  report.applied = options.apply;
  const int64_t started = NowMs();
  const int64_t cutoff = (options.now_ms ? options.now_ms : started) - options.retain_ms;
  if (options.apply) report.run_id = metastore.StartRun("vacuum", "lake", "manual", "");
  try {
    std::set<std::string> prefixes;  // the zones of tables that own their files
    for (const auto& table : metastore.ListTables()) {
      bool owns_files = table.kind != "source";
      std::string prefix = lake::zones::TablePrefix(table.db, table.name);
      if (owns_files && !lake::zones::IsLandedAside(prefix)) prefixes.insert(prefix);
      int64_t keep_from = KeepFrom(metastore.TableVersions(table.id), cutoff);
      auto pruned = metastore.PruneVersions(
          table.id, keep_from, owns_files ? std::optional(prefix) : std::nullopt, options.apply);
      if (pruned.versions.empty()) continue;
      VacuumedTable out{table.full_name(), std::move(pruned.versions), std::move(pruned.files)};
      if (options.apply) {
        for (const auto& f : out.files) {
          try {
            store.Delete(f.key);
          } catch (const Error& e) {
            report.errors.push_back({f.key, e.shown_code(), Redact(e.what())});
          }
        }
      }
      report.tables.push_back(std::move(out));
    }

    // Objects of a table's zone that no version lists: a run that died between writing them and
    // committing. Those of a run still in flight are its output about to be committed.
    std::set<std::string> pruned_keys;
    for (const auto& t : report.tables) {
      for (const auto& f : t.files) pruned_keys.insert(f.key);
    }
    for (const auto& prefix : prefixes) {
      auto listed = metastore.FileKeysUnder(prefix);
      for (const auto& obj : lake::ListAll(store, prefix)) {
        if (listed.count(obj.key) || pruned_keys.count(obj.key) ||
            lake::zones::IsLandedAside(obj.key) || obj.modified_ms > cutoff) {
          continue;
        }
        if (int64_t run = WritingRun(obj.key)) {
          auto writer = metastore.GetRun(run);
          if (writer && !meta::IsTerminal(writer->status)) {
            report.in_flight.push_back(obj.key);
            continue;
          }
        }
        if (options.apply) {
          try {
            store.Delete(obj.key);
          } catch (const Error& e) {
            report.errors.push_back({obj.key, e.shown_code(), Redact(e.what())});
            continue;
          }
        }
        report.orphans.push_back(obj);
      }
    }
  } catch (const Error& e) {
    if (options.apply) metastore.FailRun(*metastore.GetRun(report.run_id), Redact(e.what()));
    throw;
  }
  if (options.apply) {
    meta::Run run = *metastore.GetRun(report.run_id);
    run.status = report.errors.empty() ? meta::RunStatus::kSucceeded : meta::RunStatus::kFailed;
    run.ended_ms = NowMs();
    run.files_read = static_cast<int64_t>(report.files());
    if (!report.errors.empty()) {
      run.error = fmt::format("{} object(s) could not be removed; the next vacuum tries again",
                              report.errors.size());
    }
    run.details = nlohmann::json{{"retain_ms", options.retain_ms},
                                 {"versions_removed", report.versions()},
                                 {"files_removed", report.files()},
                                 {"bytes_removed", report.bytes()}}
                      .dump();
    metastore.FinishRun(run, {}, {});
  }
  return report;
}

}  // namespace sluice::catalog
