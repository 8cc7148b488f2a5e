#pragma once
// meta::Metastore keeps everything Sluice knows besides the bytes in the lake. It is the union of
// the stores by role, each with its own contract in its own header:
//   CatalogStore (catalog_store.h)      databases, tables, versions, columns, files, column tags
//   RunLog (run_log.h)                  runs, their steps, check results and log lines
//   WorkQueue (work_queue.h)            queued workflow runs and who runs them
//   WorkflowState (workflow_state.h)    workflow steps and attempts
//   Triggers (triggers.h)               arrivals and schedule marks
//   Publisher (publisher.h)             CommitRun: versions + bookmarks + checks atomically
//   AccessStore (access_store.h)        API tokens
//   LandingRegistry (landing_registry.h) what each landing key holds
//   ExtractState (extract_state.h)      extraction cursors and the files of extraction runs
//   QualityHistory (quality_history.h)  past check results, for thresholds and pages
//   SnapshotStore (snapshot_store.h)    the definitions runs ran, by hash
// Code that needs only some roles takes those (`meta::RunLog&`), not the whole Metastore.
#include <memory>
#include <string>

#include "meta/access_store.h"
#include "meta/catalog_store.h"
#include "meta/extract_state.h"
#include "meta/landing_registry.h"
#include "meta/publisher.h"
#include "meta/quality_history.h"
#include "meta/records.h"
#include "meta/run_log.h"
#include "meta/snapshot_store.h"
#include "meta/triggers.h"
#include "meta/work_queue.h"
#include "meta/workflow_state.h"

namespace sluice::meta {

class Metastore : public virtual CatalogStore,
                  public virtual RunLog,
                  public virtual WorkQueue,
                  public virtual WorkflowState,
                  public virtual Triggers,
                  public virtual Publisher,
                  public virtual AccessStore,
                  public virtual LandingRegistry,
                  public virtual ExtractState,
                  public virtual QualityHistory,
                  public virtual SnapshotStore {};

// Opens (creating and migrating) the metastore at `uri`: `sqlite:PATH` or a plain PATH is an
// SQLite file, postgresql:// (or postgres://) a PostgreSQL database. Any other scheme throws
// Error(kConfig), code meta.unsupported_backend; the database's failures throw as SqlCore's
// (kIo; meta.schema_too_new; pg.connect).
std::unique_ptr<Metastore> Open(const std::string& uri);

// Where the schema of the metastore at `uri` stands, for `sluice metastore status|migrate`.
struct SchemaState {
  std::string dialect;  // "sqlite", "postgresql"
  std::string where;    // the file, or the server and database (never a password)
  bool exists = true;   // false: no schema yet (an SQLite file not created, an empty database)
  int version = 0;      // the version recorded in it
  int newest = 0;       // the version this binary migrates to
  int applied = 0;      // migrations MigrateSchema applied (0: another process had, or none due)
};
// Reads it, changing nothing (an SQLite file that does not exist is not created). Throws as Open.
SchemaState ReadSchema(const std::string& uri);
// Migrates it to `newest` (as Open does), then reads it.
SchemaState MigrateSchema(const std::string& uri);

}  // namespace sluice::meta
