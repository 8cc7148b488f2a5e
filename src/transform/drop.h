#pragma once
// Dropping a table: the catalog forgets it (every version, and the bookmarks of the job writing
// it, so that the job rebuilds it whole), the drop is recorded as a run of kind "drop", then the
// objects of the table's zone go. A source's table is not dropped: its files are what landed
// (`sluice landing remove` takes a file out).
#include <cstdint>
#include <string>
#include <vector>

#include "project/project.h"
#include "transform/workspace.h"

namespace sluice::transform {

struct DropReport {
  std::string table;    // db.name
  int64_t version = 0;  // the version it had
  int64_t run_id = 0;
  std::string writer;  // the job or model of the project that writes it, or ""
  size_t files = 0;    // objects removed
  uint64_t bytes = 0;
  std::vector<std::string> errors;  // objects that could not be removed ("key: why")
};

// What DropTable would drop: the table as the catalog has it. Throws Error(kUsage,
// usage.unknown_table) for a table not in the catalog, Error(kUsage, usage.source_table) for a
// source's table.
meta::Table TableToDrop(Workspace& ws, const project::TableName& name);

// Drops `name` as it was at `version` (TableToDrop's answer): Error(kConflict, publish.conflict)
// when a run published it since. An object that cannot be deleted is reported in `errors`: no
// version lists it any more, and `sluice vacuum` removes it later.
DropReport DropTable(Workspace& ws, const project::TableName& name, int64_t version,
                     const std::string& who);

// A catalog table of a job, a model or a job's quarantine that nothing in the project writes any
// more (its job or model was removed or renamed). Source tables are not listed: they hold what
// landed, whatever the project says now.
struct OrphanTable {
  std::string table;  // db.name
  std::string kind;   // job | model | quarantine
};

// The orphans of `catalog` for `project`, in the catalog's order (a lake table whose model runs
// in the warehouse now is one). `validate` warns about each.
std::vector<OrphanTable> OrphanTables(const project::Project& project, meta::CatalogStore& catalog);

// The incremental jobs of `project` with no bookmarks whose output the catalog already holds as
// a job's table (a job renamed, or its bookmarks dropped): their next run reads every landed file
// again, and an append output gets those rows twice. `validate` warns about each.
std::vector<std::string> JobsStartingOver(const project::Project& project,
                                          meta::Metastore& metastore);

}  // namespace sluice::transform
