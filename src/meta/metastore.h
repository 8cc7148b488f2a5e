#pragma once
// meta::Metastore keeps everything Sluice knows besides the bytes in the lake: the catalog
// (databases, tables, columns, files and versions), runs and their steps, job bookmarks, check
// results and the landing registry.
//
// Contract, for every backend:
// - Each call is one transaction: it takes effect whole or not at all.
// - CommitRun is the only way a job/model/crawl publishes: the tables' new versions, the job's
//   bookmarks, the check results and the run's final record commit together. A crash before it
//   returns leaves the catalog as it was (files already in the lake stay invisible).
// - Table versions only grow; a table's files at version V never change.
// - Calls are safe from several threads and processes at once (SQLite: WAL and busy timeout).
// Failures throw sluice::Error(kIo).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

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
  std::string partition;          // "k=v/k2=v2", or "" when unpartitioned
  int64_t rows = -1;              // -1 when unknown
  std::string status = "active";  // active | quarantined (kept out of the table)
  std::string reason;             // why quarantined
  std::string columns;            // JSON array of the file's own column names ("" if unknown)
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

// A new version of one table.
struct TableChange {
  std::string db, name, kind, format, options;
  std::vector<Column> columns;
  std::vector<TableFile> added;      // files that join the table (or are quarantined beside it)
  std::vector<std::string> removed;  // keys that leave the table
  bool remove_all = false;           // overwrite: every active file leaves
  std::string change;
  // The table version the change was built on (0: the table did not exist). When set, the
  // commit fails with kIo, code publish.conflict, naming both versions, if the table moved
  // meanwhile: nothing of that commit is published.
  std::optional<int64_t> base_version;
};

struct Run {
  int64_t id = 0;
  std::string kind;  // workflow | crawl | job | model
  std::string name;
  std::string status;  // queued | running | succeeded | failed | cancelled
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
};

// Whether a run status is final (succeeded, failed or cancelled).
inline bool IsTerminal(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled";
}

// Which runs ListRuns returns, newest first.
struct RunFilter {
  std::vector<std::string> statuses;  // empty: any
  std::string kind, name, trigger;    // empty: any
  bool top_level = false;             // only runs without a parent
  int64_t before_id = 0;              // only ids below (paging); 0: no bound
  size_t limit = 50;
};

// One step of a workflow run, by its path in the workflow (e.g. "clean_orders",
// "parallel/1/load", "map/3/job_x"): the durable state that lets a restarted server skip what
// is done and retry what was interrupted.
struct StepState {
  int64_t run_id = 0;
  std::string path, kind;
  std::string status;  // running | retrying | succeeded | failed | cancelled
  int attempts = 0;
  int64_t started_ms = 0, ended_ms = 0;
  std::string output = "{}";  // JSON: the step's figures (rows, child run, chosen branch, ...)
  std::string error_kind, error;
};

struct Attempt {
  int64_t run_id = 0;
  std::string path;
  int attempt = 0;     // 1-based
  std::string status;  // running | succeeded | failed | interrupted | cancelled
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
  std::vector<CheckResult> checks;
  std::vector<RunStep> steps;
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

class Metastore {
 public:
  virtual ~Metastore() = default;

  // Catalog.
  virtual std::vector<Table> ListTables() = 0;
  virtual std::optional<Table> GetTable(const std::string& db, const std::string& name) = 0;
  // The table's files at `version` (0: the current one); `include_quarantined` adds files kept
  // out of the table.
  virtual std::vector<TableFile> TableFiles(int64_t table_id, int64_t version = 0,
                                            bool include_quarantined = false) = 0;
  virtual std::vector<TableVersion> TableVersions(int64_t table_id) = 0;
  // Columns as of `version` (0: current).
  virtual std::vector<Column> TableColumns(int64_t table_id, int64_t version) = 0;

  // Runs. StartRun records a running run and returns its id.
  virtual int64_t StartRun(const std::string& kind, const std::string& name,
                           const std::string& trigger) = 0;
  // Publishes a run's result atomically (see the contract above).
  virtual void CommitRun(const RunCommit& commit) = 0;
  // Ends a run that publishes nothing (failed, or nothing to do).
  virtual void FinishRun(const Run& run, const std::vector<RunStep>& steps,
                         const std::vector<CheckResult>& checks) = 0;
  // Ends `run` as failed now, with `error`, keeping the steps and check results it got to.
  void FailRun(Run run, const std::string& error, const std::vector<RunStep>& steps = {},
               const std::vector<CheckResult>& checks = {});
  virtual std::vector<Run> ListRuns(const RunFilter& filter) = 0;
  virtual std::optional<Run> GetRun(int64_t id) = 0;
  // Ends as failed, with the reason, every crawl, job and model run left `running` by a process
  // of this host that is gone (common/process.h: host, pid and start time, so a reused pid does
  // not pass for it); returns them. Nothing such a run wrote was published. Workflow runs are
  // left as they are: they resume (a server's start, `sluice retry`). Every command that opens
  // the metastore calls it; two processes calling it at once fail each run once.
  std::vector<Run> FailAbandonedRuns();

  // Workflow runs. EnqueueRun records `run` as queued and returns its id.
  virtual int64_t EnqueueRun(const Run& run) = 0;
  // For an arrival trigger: in one transaction, records the keys of `keys` that `workflow` has
  // not seen yet and, when there is any, queues `run` with `params(fresh_keys)`. Returns the run
  // id (0 when every key was seen before). Each key starts work exactly once.
  virtual int64_t EnqueueArrivals(
      const std::string& workflow, const std::vector<std::string>& keys, Run run,
      const std::function<std::string(const std::vector<std::string>&)>& params) = 0;
  virtual std::set<std::string> ArrivedKeys(const std::string& workflow) = 0;
  // queued -> running for `owner`; false when someone else claimed it (or it was cancelled).
  virtual bool ClaimRun(int64_t id, const std::string& owner) = 0;
  // running -> queued (a stopped server's run, to resume at the next start).
  virtual void RequeueRun(int64_t id) = 0;
  // A queued run ends cancelled at once; a running one gets cancel_requested. Returns the run
  // after the change (nullopt: no such run).
  virtual std::optional<Run> RequestCancel(int64_t id) = 0;
  // A failed or cancelled workflow run goes back to the queue to run again from the steps that
  // failed (steps that succeeded stay done). False when the run is not failed or cancelled.
  virtual bool RedriveRun(int64_t id) = 0;

  virtual std::vector<StepState> Steps(int64_t run_id) = 0;
  virtual std::vector<Attempt> Attempts(int64_t run_id) = 0;
  // Records attempt `attempt` of a step as running (the step too).
  virtual void BeginAttempt(int64_t run_id, const std::string& path, const std::string& kind,
                            int attempt) = 0;
  virtual void SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                               int64_t child_run_id) = 0;
  // Ends an attempt and sets its step's status, output and error, in one transaction.
  virtual void EndAttempt(const Attempt& attempt, const std::string& step_status,
                          const std::string& output) = 0;

  virtual int64_t AppendLog(int64_t run_id, const std::string& level, const std::string& step,
                            const std::string& message) = 0;
  // A run's log lines with id > after_id, oldest first.
  virtual std::vector<LogLine> Logs(int64_t run_id, int64_t after_id, size_t limit) = 0;

  // The last fire time a schedule trigger handled (nullopt: never ran).
  virtual std::optional<int64_t> ScheduleMark(const std::string& workflow,
                                              const std::string& trigger) = 0;
  virtual void SetScheduleMark(const std::string& workflow, const std::string& trigger,
                               int64_t fire_ms) = 0;
  virtual std::vector<RunStep> RunSteps(int64_t run_id) = 0;
  virtual std::vector<CheckResult> CheckResults(int64_t run_id) = 0;

  // Quality history: a rule's numeric results on a table, newest first (at most n); and every
  // result of the table's last `runs` runs that checked it, oldest first.
  // Only succeeded runs of kind `kind` count (a rejected batch must not lower the bar).
  virtual std::vector<double> RuleHistory(const std::string& table, const std::string& rule,
                                          size_t n, const std::string& kind) = 0;
  virtual std::vector<CheckHistoryEntry> CheckHistory(const std::string& table, size_t runs) = 0;

  // Sensitive-data tags of a table's columns: column -> JSON array such as
  // [{"entity": "EMAIL", "confidence": 0.98}] (the latest detection replaces the earlier).
  virtual void SetColumnTags(int64_t table_id, const std::map<std::string, std::string>& tags) = 0;
  virtual std::map<std::string, std::string> ColumnTags(int64_t table_id) = 0;

  // Bookmarks: the landed files a job has processed.
  virtual std::set<std::string> Bookmarks(const std::string& job) = 0;

  // Landing registry, for ingest's "same bytes twice is a no-op".
  virtual std::optional<LandedFile> FindLanded(const std::string& source,
                                               const std::string& sha256) = 0;
  // Records what `file.key` holds now, replacing an earlier record of that key: a key the
  // crawler freed (a damaged file it moved out of landing) holds the file landed after it.
  virtual void RecordLanded(const LandedFile& file) = 0;

  // API tokens. CreateToken answers false when `name` is taken; RevokeToken false when there
  // is no such token; TouchToken records a use (a no-op for a revoked token). Any process may
  // call them concurrently.
  virtual bool CreateToken(const std::string& name, const std::string& hash) = 0;
  virtual std::vector<ApiToken> Tokens() = 0;  // by name
  virtual bool RevokeToken(const std::string& name) = 0;
  virtual void TouchToken(const std::string& name, int64_t now_ms) = 0;
};

}  // namespace sluice::meta
