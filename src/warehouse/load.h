#pragma once
// Loading a catalog table into the warehouse (`destination:`, `load:` steps, `sluice load`).
//
// A load sends the rows of one catalog table version into a temporary staging table of the
// warehouse session (COPY for PostgreSQL), checks them (merge: no NULL and no repeated key),
// then applies them to the target in ONE transaction together with a row of the ledger
// `sluice.loads` (target, catalog table id, version): readers see the old rows or the new ones,
// never a mix and never an empty table; a killed load applies nothing.
//
// - Once per version: a load of a version the ledger already holds for the target changes
//   nothing (applied = false); of an older version than the ledger's latest, it is refused
//   (load.older_version).
// - Incremental: when the ledger's latest version of the same catalog table is still listed and
//   the new version only added files to it, append and merge (without delete_missing) send only
//   the new files' rows. An append destination of a table that replaced or removed files is
//   refused (load.rewritten): appending again would double rows.
// - Schema: a missing target is created from the catalog's columns (warehouse::TypeFor); new
//   columns are added and widened types widened in the same transaction; any other change (a
//   narrowed or different type, a key column gone, another key) is refused
//   (load.schema_change, load.key_change) and nothing changes.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "project/project.h"
#include "transform/workspace.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {

struct LoadRequest {
  project::TableName table;  // the catalog table
  int64_t version = 0;       // its version to load; 0 for the current one
  // Fields left unset take their defaults (ResolveDestination).
  project::Destination destination;
  // Hears the rows sent to the warehouse so far (progress on a terminal).
  std::function<void(int64_t rows)> progress;
};

struct LoadResult {
  std::string table;   // the catalog table, db.name
  std::string target;  // schema.table in the warehouse
  project::LoadMode mode = project::LoadMode::kAppend;
  std::vector<std::string> key;
  int64_t version = 0;       // of the catalog table
  bool applied = false;      // false: the target already held this version
  bool incremental = false;  // only the rows of files new since the last load were sent
  int64_t files = 0;         // files whose rows were sent
  int64_t rows = 0, inserted = 0, updated = 0, deleted = 0;
  std::vector<std::string> changes;  // to the target's shape: "created", "added column x bigint"
  std::string message;               // one line for people
};

// Loads as described above. Throws sluice::Error: kUsage for a table not in the catalog
// (usage.unknown_table), kInput for what the data or the target forbid (load.*), the
// warehouse's errors (warehouse.*) otherwise. Nothing is applied when it throws.
LoadResult Load(transform::Workspace& ws, Warehouse& warehouse, const LoadRequest& request);

// After a successful run of a job (`kind` "job", `name` its name) or a model ("model", db.table):
// the load of its table's current version into its `destination:`, in the environment's
// warehouse; nullopt when it declares none. A run that changed nothing still loads when the
// warehouse lags (a failed load is made good by the next run), and otherwise changes nothing.
// Whether that job or model declares a `destination:`.
bool HasDestination(const project::Project& project, const std::string& kind,
                    const std::string& name);

std::optional<LoadResult> LoadDestination(transform::Workspace& ws, const std::string& kind,
                                          const std::string& name,
                                          const std::function<void(int64_t rows)>& progress = {});

}  // namespace sluice::warehouse
