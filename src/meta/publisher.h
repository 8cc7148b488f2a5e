#pragma once
// meta::Publisher: how a crawl, job or model run publishes — the tables' new versions, the job's
// bookmarks, the check results and the run's final record, in one transaction.
//
// Contract, for every backend:
// - CommitRun takes effect whole or not at all. A crash before it returns leaves the catalog as
//   it was (files already in the lake stay invisible).
// - A lost race publishes nothing and throws Error(kConflict), code publish.conflict: a table
// change
//   whose base_version is no longer the table's version (naming both versions), or a bookmark
//   key another run processed meanwhile (not checked when the commit resets the bookmarks: its
//   table change's base_version guards it).
// - Other failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time; of two commits built on one table
//   version exactly one publishes.
#include <set>
#include <string>

#include "meta/records.h"

namespace sluice::meta {

class Publisher {
 public:
  virtual ~Publisher() = default;

  // Publishes a run's result atomically (see above).
  virtual void CommitRun(const RunCommit& commit) = 0;
  // Removes table drop.db.name from the catalog (its versions, columns, file rows and column
  // tags) with the bookmarks of drop.bookmark_job, and writes drop.run, in one transaction.
  // Returns the table's file rows of every version (the caller deletes the objects of its
  // zone). Error(kConflict, publish.conflict) when the table moved past drop.base_version or is
  // gone (another drop won).
  virtual std::vector<TableFile> DropTable(const TableDrop& drop) = 0;
  // The landed files a job has processed (its bookmarks); empty for a job never run.
  virtual std::set<std::string> Bookmarks(const std::string& job) = 0;
};

}  // namespace sluice::meta
