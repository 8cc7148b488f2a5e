#pragma once
// Writing a table's new data: Parquet files into the store, returned as a table change that the
// caller commits (with its run, bookmarks and check results) in one metastore transaction.
// Until that commit the files are invisible, so a failed run leaves nothing behind that readers
// could see.
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
};

struct WrittenTable {
  meta::TableChange change;
  int64_t rows = 0;  // rows in the new data
};

// Writes the rows of `select_sql` for `spec`. `conn` must have the catalog attached (merge reads
// the table's current rows through its view).
WrittenTable WriteTable(engine::Connection& conn, lake::Store& store, meta::Metastore& metastore,
                        const OutputSpec& spec, const std::string& select_sql, int64_t run_id,
                        const RunOptions& options);

}  // namespace sluice::transform
