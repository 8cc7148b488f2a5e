#pragma once
// Writing a table's new data in two phases. WriteBatch streams the rows of a query into Parquet
// files in a scratch folder; the caller may check them there. Publish turns the batch into the
// table's next files (moving them into the lake, or for a merge rewriting the table with them)
// and returns the table change, which the caller commits with its run, bookmarks and check
// results in one metastore transaction. Until that commit nothing is visible, so a failed run
// leaves nothing readers could see.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"
#include "transform/workspace.h"

namespace sluice::transform {

struct OutputSpec {
  project::TableName table;
  std::string kind;             // job | model | quarantine
  std::string mode = "append";  // append | overwrite | merge
  std::vector<std::string> key, partition_by;
  // A column of the rows that orders them by arrival (later wins in a merge) and is not written;
  // "" when the rows have none.
  std::string arrival_column;
  // The table's version when the run attached the catalog (0: no table yet): the commit fails
  // with publish.conflict if another run published meanwhile. nullopt: not checked.
  std::optional<int64_t> base_version;
  // The table is rebuilt from the batch alone (a full refresh): its rows and columns go, a merge
  // merges the batch's rows among themselves, and any partitioning may change.
  bool rebuild = false;
  // A backfill: the table's files in this range leave and the batch's join; the rest stay. The
  // batch must hold rows of the range only (CompileJob sees to it); a merge merges the batch's
  // rows among themselves.
  const PartitionRange* partitions = nullptr;
};

// Parquet files in a scratch folder, removed with the batch.
class Batch {
 public:
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;
  ~Batch();

  int64_t rows() const { return rows_; }
  // A table expression over the batch's rows, as the table will hold them.
  std::string ScanSql() const;

 private:
  friend std::unique_ptr<Batch> WriteBatch(engine::Connection&, lake::Store&, const OutputSpec&,
                                           const std::string&, int64_t, const RunOptions&);
  friend meta::TableChange Publish(engine::Connection&, lake::Store&, meta::CatalogStore&,
                                   const OutputSpec&, const Batch&, int64_t, const RunOptions&);
  Batch() = default;
  fs::path dir_;
  std::vector<fs::path> files_;
  std::vector<meta::Column> columns_;  // as published (without the arrival column)
  bool keeps_arrival_ = false;         // files still hold the arrival column (merge)
  int64_t rows_ = 0;
};

// Runs `select_sql` once, writing its rows to scratch: partitioned as the table will be, except
// for a merge, which keeps the arrival column for Publish.
std::unique_ptr<Batch> WriteBatch(engine::Connection& conn, lake::Store& store,
                                  const OutputSpec& spec, const std::string& select_sql,
                                  int64_t run_id, const RunOptions& options);

// Fails with config.key_change when `existing` (the table `spec` writes, if any) is merged on
// another key than spec.key and this run would merge into it or append to it: a merge on other
// columns would collapse or duplicate its rows, an append would repeat keys. An overwrite and a
// full refresh may change the key. (A table published before keys were recorded is not checked.)
void CheckMergeKey(const std::optional<meta::Table>& existing, const OutputSpec& spec);

// The table's next version from `batch`. `conn` must have the catalog attached (a merge reads
// the table's current rows through its view).
meta::TableChange Publish(engine::Connection& conn, lake::Store& store,
                          meta::CatalogStore& metastore, const OutputSpec& spec, const Batch& batch,
                          int64_t run_id, const RunOptions& options);

struct WrittenTable {
  meta::TableChange change;
  int64_t rows = 0;
};

// The version `table` has now, as OutputSpec::base_version wants it (0: no table yet).
int64_t CurrentVersion(meta::CatalogStore& metastore, const project::TableName& table);

// Deletes every file `changes` added to the lake: a run that did not commit them leaves nothing
// referenced by nothing. Returns a "\n  note: ..." line per file it could not delete ("" when
// every one went), for the error the run records.
std::string DiscardFiles(lake::Store& store, const std::vector<meta::TableChange>& changes);

// Inside a catch block: rethrows the exception in flight, an Error with `notes` appended.
[[noreturn]] void RethrowWith(const std::string& notes);

// Commits `commit`; if the commit fails (a conflict, a full disk), deletes every file its table
// changes added to the lake, so a run that published nothing leaves nothing behind, and
// rethrows.
void CommitOrDiscard(lake::Store& store, meta::Publisher& metastore, const meta::RunCommit& commit);

// WriteBatch and Publish in one go, for callers that check nothing in between.
WrittenTable WriteTable(engine::Connection& conn, lake::Store& store, meta::CatalogStore& metastore,
                        const OutputSpec& spec, const std::string& select_sql, int64_t run_id,
                        const RunOptions& options);

// Appends the rows of the temp table _quarantine, with the run's id as _run_id, to `table`. If
// that fails, the files of `pending` (the run's tables put but not committed) are discarded
// before the error goes on.
WrittenTable WriteQuarantine(engine::Connection& conn, lake::Store& store,
                             meta::CatalogStore& metastore, const project::TableName& table,
                             int64_t run_id, const std::vector<meta::TableChange>& pending);

}  // namespace sluice::transform
