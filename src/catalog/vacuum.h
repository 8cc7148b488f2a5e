#pragma once
// Vacuum: removing what the lake no longer needs. A table keeps every version younger than the
// retention, the version that was current when the retention began (a query "as of" that moment
// reads it), and always its current version; older versions go, with the files of the table's
// own zone that only they listed. Files under a table's zone that no version lists (a run that
// died between writing and committing) go too once older than the retention, unless the run that
// wrote them is still in flight. A source's landed files are never removed: they are the lake's
// record of what arrived.
//
// The catalog forgets first, then the objects go: a crash between leaves files no version lists,
// which the next vacuum removes as such. Works through lake::Store alone, so every backend
// behaves the same.
#include <cstdint>
#include <string>
#include <vector>

#include "lake/store.h"
#include "meta/metastore.h"

namespace sluice::catalog {

struct VacuumOptions {
  int64_t retain_ms = 7LL * 86400000;
  bool apply = false;  // false: only say what would go
  int64_t now_ms = 0;  // 0: the clock
};

struct VacuumedTable {
  std::string table;                   // db.name
  std::vector<int64_t> versions;       // removed, oldest first
  std::vector<meta::TableFile> files;  // objects only those versions listed
};

// An object the vacuum could not remove.
struct VacuumError {
  std::string key, code, what;
};

struct VacuumReport {
  bool applied = false;
  std::vector<VacuumedTable> tables;      // tables with something to remove
  std::vector<lake::ObjectInfo> orphans;  // objects no version lists, older than the retention
  std::vector<std::string> in_flight;     // unlisted objects of runs still in flight: kept
  std::vector<VacuumError> errors;        // objects that could not be removed
  int64_t run_id = 0;                     // the recorded vacuum run (applied only)

  size_t versions() const;
  size_t files() const;  // table files and orphans
  uint64_t bytes() const;
};

// Plans, and with options.apply carries out, a vacuum of every table. Applied, it is recorded as
// a run of kind "vacuum". Throws Error(kIo) when the catalog cannot be read or changed; an object
// that cannot be deleted is reported in `errors` (it is an orphan for the next vacuum).
VacuumReport Vacuum(meta::Metastore& metastore, lake::Store& store, const VacuumOptions& options);

}  // namespace sluice::catalog
