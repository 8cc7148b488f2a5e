#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

std::optional<LandedFile> SqlLandingRegistry::FindLanded(const std::string& source,
                                                         const std::string& sha256) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT key, size, landed_ms FROM landed_files WHERE source = ? AND sha256 = ? "
              "ORDER BY landed_ms LIMIT 1");
  s.Bind(1, source).Bind(2, sha256);
  if (!s.Step()) return std::nullopt;
  return LandedFile{source, s.Text(0), sha256, static_cast<uint64_t>(s.Int(1)), s.Int(2)};
}

void SqlLandingRegistry::RecordLanded(const LandedFile& file) {
  auto lock = core_.Lock();
  Statement s(
      core_,
      "INSERT INTO landed_files (source, key, sha256, size, landed_ms) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (source, key) DO UPDATE SET sha256 = excluded.sha256, "
      "size = excluded.size, landed_ms = excluded.landed_ms");
  s.Bind(1, file.source).Bind(2, file.key).Bind(3, file.sha256);
  s.Bind(4, static_cast<int64_t>(file.size)).Bind(5, file.landed_ms).Run();
}

std::vector<LandedFile> SqlLandingRegistry::ListLanded(const std::string& source) {
  auto lock = core_.Lock();
  Statement s(
      core_, "SELECT key, sha256, size, landed_ms FROM landed_files WHERE source = ? ORDER BY key");
  s.Bind(1, source);
  std::vector<LandedFile> out;
  while (s.Step()) {
    out.push_back({source, s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2)), s.Int(3)});
  }
  return out;
}

void SqlLandingRegistry::RecordRemoval(const LandingRemoval& r) {
  Transaction tx(core_);
  Statement add(core_,
                "INSERT INTO landing_removals (source, key, sha256, size, landed_ms, removed_ms, "
                "removed_by, reason, moved_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  add.Bind(1, r.file.source).Bind(2, r.file.key).Bind(3, r.file.sha256);
  add.Bind(4, static_cast<int64_t>(r.file.size)).Bind(5, r.file.landed_ms).Bind(6, r.removed_ms);
  add.Bind(7, r.removed_by).Bind(8, r.reason).Bind(9, r.moved_to).Run();
  Statement landed(core_, "DELETE FROM landed_files WHERE source = ? AND key = ?");
  landed.Bind(1, r.file.source).Bind(2, r.file.key).Run();
  Statement bookmarks(core_, "DELETE FROM bookmarks WHERE key = ?");
  bookmarks.Bind(1, r.file.key).Run();
  Statement arrivals(core_, "DELETE FROM arrivals WHERE key = ?");
  arrivals.Bind(1, r.file.key).Run();
  tx.Commit();
}

std::vector<LandingRemoval> SqlLandingRegistry::ListRemovals(const std::string& source) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT key, sha256, size, landed_ms, removed_ms, removed_by, reason, moved_to "
              "FROM landing_removals WHERE source = ? ORDER BY removed_ms, " +
                  std::string(core_.dialect().InsertionOrder()));
  s.Bind(1, source);
  std::vector<LandingRemoval> out;
  while (s.Step()) {
    out.push_back({{source, s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2)), s.Int(3)},
                   s.Int(4),
                   s.Text(5),
                   s.Text(6),
                   s.Text(7)});
  }
  return out;
}

}  // namespace sluice::meta
