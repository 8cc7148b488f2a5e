#pragma once
// The records the metastore's stores read and write (see the role headers: catalog_store.h,
// run_log.h, work_queue.h, workflow_state.h, triggers.h, publisher.h, access_store.h,
// landing_registry.h, quality_history.h). Plain values; any thread may copy them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meta/status.h"
#include "meta/trigger_kind.h"

namespace sluice::meta {

struct Column {
  std::string name;
  std::string type;  // a DuckDB type name, e.g. BIGINT, DECIMAL(12,2), VARCHAR
  bool partition = false;
  bool operator==(const Column&) const = default;
};

struct TableFile {
  std::string key;  // lake key
  uint64_t size = 0;
  std::string partition;  // "k=v/k2=v2", or "" when unpartitioned
  int64_t rows = -1;      // -1 when unknown
  FileStatus status = FileStatus::kActive;
  std::string reason;   // why quarantined or held
  std::string columns;  // JSON array of the file's own column names ("" if unknown)
};

struct Table {
  int64_t id = 0;
  std::string db, name;
  std::string kind;     // source | job | model | quarantine
  std::string format;   // csv | json | parquet
  std::string options;  // JSON: how to read the files (dialect, partitioning, ...)
  int64_t version = 0;
  std::vector<Column> columns;
  int64_t created_ms = 0, updated_ms = 0;
  std::string full_name() const { return db + "." + name; }
};

struct TableVersion {
  int64_t version = 0;
  int64_t created_ms = 0;
  int64_t run_id = 0;
  std::string change;  // what this version did, in words
  int64_t files = 0;
};

// What pruning a table's old versions removes (CatalogStore::PruneVersions).
struct PrunedVersions {
  std::vector<int64_t> versions;  // oldest first
  std::vector<TableFile> files;   // rows no kept version lists, under the table's own prefix
};

// A new version of one table.
struct TableChange {
  std::string db, name, kind, format, options;
  std::vector<Column> columns;
  std::vector<TableFile> added;      // files that join the table (or are quarantined beside it)
  std::vector<std::string> removed;  // keys that leave the table
  bool remove_all = false;           // overwrite: every active file leaves
  std::string change;
  // The table version the change was built on (0: the table did not exist). When set, the
  // commit fails with kConflict, code publish.conflict, naming both versions, if the table moved
  // meanwhile: nothing of that commit is published.
  std::optional<int64_t> base_version;
};

struct Run {
  int64_t id = 0;
  std::string kind;  // workflow | crawl | job | model
  std::string name;
  RunStatus status = RunStatus::kQueued;
  std::string trigger = "manual";
  int64_t started_ms = 0, ended_ms = 0;
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0, files_read = 0;
  std::string error;
  std::string details;  // JSON object: the run's report (per-reason counts, outputs, ...)
  // Workflow runs.
  std::string params = "{}";  // JSON object: parameters (and `files` for arrivals)
  std::string definition;     // the workflow file as it was when the run was queued
  int64_t parent_run_id = 0;  // a child run's parent (0: none)
  std::string owner;          // the process running it (see common/process.h)
  bool cancel_requested = false;
  int64_t queued_ms = 0;
  // The hash of the definitions the run ran (meta/snapshot_store.h); "" for runs recorded before
  // snapshots were.
  std::string snapshot;
};

// What a workflow run runs: its workflow file as read, and the snapshot of the rest.
struct RunDefinitions {
  std::string workflow;  // Run::definition
  std::string snapshot;  // Run::snapshot
};

// Which runs ListRuns returns, newest first.
struct RunFilter {
  std::vector<RunStatus> statuses;          // empty: any
  std::string kind, name, trigger;          // empty: any
  std::optional<TriggerKind> trigger_kind;  // nullopt: any (TriggerKindOf the trigger text)
  bool top_level = false;                   // only runs without a parent
  int64_t before_id = 0;                    // only ids below (paging); 0: no bound
  size_t limit = 50;
};

// One step of a workflow run, by its path in the workflow (e.g. "clean_orders",
// "parallel/1/load", "map/3/job_x"): the durable state that lets a restarted server skip what
// is done and retry what was interrupted.
struct StepState {
  int64_t run_id = 0;
  std::string path, kind;
  StepStatus status = StepStatus::kRunning;
  int attempts = 0;
  int64_t started_ms = 0, ended_ms = 0;
  std::string output = "{}";  // JSON: the step's figures (rows, child run, chosen branch, ...)
  std::string error_kind, error;
};

struct Attempt {
  int64_t run_id = 0;
  std::string path;
  int attempt = 0;  // 1-based
  AttemptStatus status = AttemptStatus::kRunning;
  int64_t started_ms = 0, ended_ms = 0;
  std::string error_kind, error;
  int64_t child_run_id = 0;  // the job/crawl/model/workflow run it started
};

struct LogLine {
  int64_t id = 0, run_id = 0, time_ms = 0;
  std::string level;  // info | warn | error
  std::string step;   // step path ("" for the run)
  std::string message;
};

struct RunStep {
  int64_t run_id = 0;
  int seq = 0;
  std::string name, status;
  int64_t started_ms = 0, ended_ms = 0;
  int64_t rows = -1;
  std::string error;
};

struct CheckResult {
  std::string table;
  std::string rule, on_fail;
  std::string outcome;  // pass | fail | error
  std::string observed;
  int64_t failing_rows = -1;
  std::string message;
  std::optional<double> value;  // the observed figure as a number, for dynamic thresholds
  std::string threshold;        // the condition it was judged by, as written
};

// One stored check result with the run it belongs to.
struct CheckHistoryEntry {
  int64_t run_id = 0;
  int64_t time_ms = 0;
  CheckResult result;
};

struct RunCommit {
  Run run;  // its final record
  std::vector<TableChange> tables;
  std::string bookmark_job;  // job whose bookmarks advance ("" for none)
  std::vector<std::string> bookmark_keys;
  // The job's bookmarks become exactly bookmark_keys (a full refresh read every file), instead of
  // gaining them.
  bool bookmarks_reset = false;
  std::vector<CheckResult> checks;
  std::vector<RunStep> steps;
};

// A table leaving the catalog (Publisher::DropTable).
struct TableDrop {
  std::string db, name;
  int64_t base_version = 0;  // the version the caller saw: a commit since is a lost race
  std::string bookmark_job;  // the job whose bookmarks go with its output ("" for none)
  Run run;                   // the drop's final record
};

// An API token of `sluice serve`: only the SHA-256 of its secret is stored.
struct ApiToken {
  std::string name;
  std::string hash;  // hex SHA-256 of the secret
  int64_t created_ms = 0;
  int64_t last_used_ms = 0;  // 0: never used
};

struct LandedFile {
  std::string source, key, sha256;
  uint64_t size = 0;
  int64_t landed_ms = 0;
};

// A landed file `sluice landing remove` took out: what it was, who took it out, when and why, and
// where its bytes went.
struct LandingRemoval {
  LandedFile file;  // sha256 "" and landed_ms 0 when the file was not landed by `sluice ingest`
  int64_t removed_ms = 0;
  std::string removed_by, reason;
  std::string moved_to;  // its lake key now
};

}  // namespace sluice::meta
