#include <fmt/format.h>

#include "common/error.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

namespace {

constexpr const char* kFileColumns =
    "staging_key, source, landing_key, sha256, size, owner, status, created_ms";

ExtractFile ReadFile(Statement& s) {
  ExtractFile f;
  f.staging_key = s.Text(0);
  f.source = s.Text(1);
  f.landing_key = s.Text(2);
  f.sha256 = s.Text(3);
  f.size = static_cast<uint64_t>(s.Int(4));
  f.owner = s.Text(5);
  f.status = ParseExtractFileStatus(s.Text(6));
  f.created_ms = s.Int(7);
  return f;
}

}  // namespace

std::optional<ExtractCursor> SqlExtractState::GetExtractState(const std::string& source) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT version, state, updated_ms FROM extract_state WHERE source = ?");
  s.Bind(1, source);
  if (!s.Step()) return std::nullopt;
  return ExtractCursor{source, s.Int(0), s.Text(1), s.Int(2)};
}

void SqlExtractState::StageExtractFiles(const std::vector<ExtractFile>& files) {
  Transaction tx(core_);
  int64_t now = NowMs();
  for (const auto& f : files) {
    Statement s(core_,
                fmt::format("INSERT INTO extract_files ({}) VALUES (?, ?, ?, ?, ?, ?, {}, ?)",
                            kFileColumns, Sql(ExtractFileStatus::kStaged)));
    s.Bind(1, f.staging_key).Bind(2, f.source).Bind(3, f.landing_key).Bind(4, f.sha256);
    s.Bind(5, static_cast<int64_t>(f.size)).Bind(6, f.owner).Bind(7, now).Run();
  }
  tx.Commit();
}

int64_t SqlExtractState::CommitExtract(const ExtractCommit& c) {
  Transaction tx(core_);
  int64_t version = 0;
  {
    Statement s(core_, "SELECT version FROM extract_state WHERE source = ?");
    s.Bind(1, c.source);
    if (s.Step()) version = s.Int(0);
  }
  if (version != c.base_version) {
    FailWithCode(ErrorKind::kConflict, "extract.conflict",
                 "another extraction of source {} committed first (its cursor is at commit {}, "
                 "this run read commit {}); nothing was landed by this run, run it again",
                 c.source, version, c.base_version);
  }
  Statement put(core_,
                "INSERT INTO extract_state (source, version, state, updated_ms) VALUES "
                "(?, ?, ?, ?)" +
                    core_.dialect().Upsert("source", {"version", "state", "updated_ms"}));
  put.Bind(1, c.source).Bind(2, version + 1).Bind(3, c.state).Bind(4, c.committed_ms).Run();
  for (const auto& key : c.staging_keys) {
    Statement file(core_, fmt::format("SELECT {} FROM extract_files WHERE staging_key = ? AND "
                                      "source = ? AND status = {}",
                                      kFileColumns, Sql(ExtractFileStatus::kStaged)));
    file.Bind(1, key).Bind(2, c.source);
    if (!file.Step()) {
      Fail(ErrorKind::kInternal, "extraction of {}: the file {} was not staged", c.source, key);
    }
    ExtractFile f = ReadFile(file);
    Statement commit(core_,
                     fmt::format("UPDATE extract_files SET status = {} WHERE staging_key = ?",
                                 Sql(ExtractFileStatus::kCommitted)));
    commit.Bind(1, key).Run();
    Statement landed(
        core_,
        "INSERT INTO landed_files (source, key, sha256, size, landed_ms) VALUES (?, ?, ?, ?, ?)" +
            core_.dialect().Upsert("source, key", {"sha256", "size", "landed_ms"}));
    landed.Bind(1, f.source).Bind(2, f.landing_key).Bind(3, f.sha256);
    landed.Bind(4, static_cast<int64_t>(f.size)).Bind(5, c.committed_ms).Run();
  }
  tx.Commit();
  return version + 1;
}

std::vector<ExtractFile> SqlExtractState::ExtractFiles(const std::string& source) {
  auto lock = core_.Lock();
  Statement s(core_, fmt::format("SELECT {} FROM extract_files WHERE ? = '' OR source = ? ORDER "
                                 "BY staging_key",
                                 kFileColumns));
  s.Bind(1, source).Bind(2, source);
  std::vector<ExtractFile> out;
  while (s.Step()) out.push_back(ReadFile(s));
  return out;
}

void SqlExtractState::DropExtractFile(const std::string& staging_key) {
  auto lock = core_.Lock();
  Statement s(core_, "DELETE FROM extract_files WHERE staging_key = ?");
  s.Bind(1, staging_key).Run();
}

}  // namespace sluice::meta
