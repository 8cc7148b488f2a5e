#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

void SqlPublisher::CommitRun(const RunCommit& commit) {
  Transaction tx(core_);
  for (const auto& change : commit.tables) ApplyTableChange(core_, change, commit.run.id);
  if (commit.bookmarks_reset) {
    Statement s(core_, "DELETE FROM bookmarks WHERE job = ?");
    s.Bind(1, commit.bookmark_job).Run();
  }
  for (const auto& key : commit.bookmark_keys) {
    // A file another run processed since this one read the bookmarks: a lost race, named as
    // such (whatever the order in which the two runs read their table's version).
    Statement seen(core_, "SELECT run_id FROM bookmarks WHERE job = ? AND key = ?");
    seen.Bind(1, commit.bookmark_job).Bind(2, key);
    if (seen.Step()) {
      FailWithCode(ErrorKind::kConflict, "publish.conflict",
                   "job {}: run {} processed {} while this run was building on it; nothing of "
                   "this run was published\n  hint: run it again to process what is new",
                   commit.bookmark_job, seen.Int(0), key);
    }
    Statement s(core_, "INSERT INTO bookmarks (job, key, run_id) VALUES (?, ?, ?)");
    s.Bind(1, commit.bookmark_job).Bind(2, key).Bind(3, commit.run.id).Run();
  }
  WriteRunRecord(core_, commit.run, commit.steps, commit.checks);
  tx.Commit();
}

std::vector<TableFile> SqlPublisher::DropTable(const TableDrop& drop) {
  Transaction tx(core_);
  Statement table(core_, std::string("SELECT id, current_version FROM tables WHERE db = ? AND "
                                     "name = ? ") +
                             std::string(core_.dialect().LockRows(false)));
  table.Bind(1, drop.db).Bind(2, drop.name);
  bool found = table.Step();
  if (!found || table.Int(1) != drop.base_version) {
    FailWithCode(ErrorKind::kConflict, "publish.conflict",
                 "{}.{} {} while this drop looked at version {}; nothing was dropped\n  hint: "
                 "look at it again (`sluice catalog {}.{}`) and drop it again",
                 drop.db, drop.name,
                 found ? fmt::format("moved to version {}", table.Int(1)) : "was dropped",
                 drop.base_version, drop.db, drop.name);
  }
  const int64_t id = table.Int(0);
  std::vector<TableFile> files;
  {
    Statement s(core_,
                "SELECT DISTINCT key, size, partition, rows, status, reason, columns FROM "
                "table_files WHERE table_id = ? ORDER BY key");
    s.Bind(1, id);
    while (s.Step()) {
      files.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Text(2), s.Int(3),
                       ParseFileStatus(s.Text(4)), s.Text(5), s.Text(6)});
    }
  }
  for (const char* t : {"table_files", "columns", "table_versions", "column_tags"}) {
    Statement s(core_, fmt::format("DELETE FROM {} WHERE table_id = ?", t));
    s.Bind(1, id).Run();
  }
  Statement gone(core_, "DELETE FROM tables WHERE id = ?");
  gone.Bind(1, id).Run();
  if (!drop.bookmark_job.empty()) {
    Statement s(core_, "DELETE FROM bookmarks WHERE job = ?");
    s.Bind(1, drop.bookmark_job).Run();
  }
  WriteRunRecord(core_, drop.run, {}, {});
  tx.Commit();
  return files;
}

std::set<std::string> SqlPublisher::Bookmarks(const std::string& job) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT key FROM bookmarks WHERE job = ?");
  s.Bind(1, job);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

}  // namespace sluice::meta
