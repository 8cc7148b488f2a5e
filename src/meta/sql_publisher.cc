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

std::set<std::string> SqlPublisher::Bookmarks(const std::string& job) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT key FROM bookmarks WHERE job = ?");
  s.Bind(1, job);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

}  // namespace sluice::meta
