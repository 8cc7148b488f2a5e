#pragma once
// The stores by role over SqlCore and a Dialect: one implementation of each role, whatever the
// database (the contracts are in the role headers). Each holds the core by reference; the owner
// (e.g. SqliteMetastore) keeps the core alive longer than its stores.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meta/access_store.h"
#include "meta/catalog_store.h"
#include "meta/extract_state.h"
#include "meta/landing_registry.h"
#include "meta/publisher.h"
#include "meta/quality_history.h"
#include "meta/run_log.h"
#include "meta/snapshot_store.h"
#include "meta/sql_core.h"
#include "meta/triggers.h"
#include "meta/work_queue.h"
#include "meta/workflow_state.h"

namespace sluice::meta {

class SqlCatalog : public virtual CatalogStore {
 public:
  explicit SqlCatalog(SqlCore& core) : core_(core) {}
  std::vector<Table> ListTables() override;
  std::optional<Table> GetTable(const std::string& db, const std::string& name) override;
  std::vector<TableFile> TableFiles(int64_t table_id, int64_t version = 0,
                                    bool include_quarantined = false) override;
  std::vector<TableVersion> TableVersions(int64_t table_id) override;
  std::vector<Column> TableColumns(int64_t table_id, int64_t version) override;
  void SetColumnTags(int64_t table_id, const std::map<std::string, std::string>& tags) override;
  std::map<std::string, std::string> ColumnTags(int64_t table_id) override;
  PrunedVersions PruneVersions(int64_t table_id, int64_t keep_from,
                               const std::optional<std::string>& own_prefix, bool apply) override;
  std::set<std::string> FileKeysUnder(const std::string& prefix) override;

 private:
  SqlCore& core_;
};

class SqlRunLog : public virtual RunLog {
 public:
  explicit SqlRunLog(SqlCore& core) : core_(core) {}
  int64_t StartRun(const std::string& kind, const std::string& name, const std::string& trigger,
                   const std::string& snapshot) override;
  void FinishRun(const Run& run, const std::vector<RunStep>& steps,
                 const std::vector<CheckResult>& checks) override;
  std::vector<Run> ListRuns(const RunFilter& filter) override;
  std::optional<Run> GetRun(int64_t id) override;
  std::vector<RunStep> RunSteps(int64_t run_id) override;
  std::vector<CheckResult> CheckResults(int64_t run_id) override;
  int64_t AppendLog(int64_t run_id, const std::string& level, const std::string& step,
                    const std::string& message) override;
  std::vector<LogLine> Logs(int64_t run_id, int64_t after_id, size_t limit) override;

 private:
  SqlCore& core_;
};

class SqlWorkQueue : public virtual WorkQueue {
 public:
  explicit SqlWorkQueue(SqlCore& core) : core_(core) {}
  int64_t EnqueueRun(const Run& run) override;
  bool ClaimRun(int64_t id, const std::string& owner) override;
  void RequeueRun(int64_t id) override;
  std::optional<Run> RequestCancel(int64_t id) override;
  bool RedriveRun(int64_t id, const std::optional<RunDefinitions>& definitions) override;

 private:
  SqlCore& core_;
};

class SqlWorkflowState : public virtual WorkflowState {
 public:
  explicit SqlWorkflowState(SqlCore& core) : core_(core) {}
  std::vector<StepState> Steps(int64_t run_id) override;
  std::vector<Attempt> Attempts(int64_t run_id) override;
  void BeginAttempt(int64_t run_id, const std::string& path, const std::string& kind,
                    int attempt) override;
  void SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                       int64_t child_run_id) override;
  void EndAttempt(const Attempt& attempt, StepStatus step_status,
                  const std::string& output) override;

 private:
  SqlCore& core_;
};

class SqlTriggers : public virtual Triggers {
 public:
  explicit SqlTriggers(SqlCore& core) : core_(core) {}
  int64_t EnqueueArrivals(
      const std::string& workflow, const std::vector<std::string>& keys, Run run,
      const std::function<std::string(const std::vector<std::string>&)>& params) override;
  std::set<std::string> ArrivedKeys(const std::string& workflow) override;
  std::optional<int64_t> ScheduleMark(const std::string& workflow,
                                      const std::string& trigger) override;
  std::optional<std::vector<int64_t>> FireSchedule(const std::string& workflow,
                                                   const std::string& trigger,
                                                   std::optional<int64_t> previous, int64_t fire_ms,
                                                   const std::vector<Run>& runs) override;

 private:
  SqlCore& core_;
};

class SqlPublisher : public virtual Publisher {
 public:
  explicit SqlPublisher(SqlCore& core) : core_(core) {}
  void CommitRun(const RunCommit& commit) override;
  std::vector<TableFile> DropTable(const TableDrop& drop) override;
  std::set<std::string> Bookmarks(const std::string& job) override;

 private:
  SqlCore& core_;
};

class SqlAccessStore : public virtual AccessStore {
 public:
  explicit SqlAccessStore(SqlCore& core) : core_(core) {}
  bool CreateToken(const std::string& name, const std::string& hash) override;
  std::vector<ApiToken> Tokens() override;
  bool RevokeToken(const std::string& name) override;
  void TouchToken(const std::string& name, int64_t now_ms) override;

 private:
  SqlCore& core_;
};

class SqlLandingRegistry : public virtual LandingRegistry {
 public:
  explicit SqlLandingRegistry(SqlCore& core) : core_(core) {}
  std::optional<LandedFile> FindLanded(const std::string& source,
                                       const std::string& sha256) override;
  void RecordLanded(const LandedFile& file) override;
  std::vector<LandedFile> ListLanded(const std::string& source) override;
  void RecordRemoval(const LandingRemoval& removal) override;
  std::vector<LandingRemoval> ListRemovals(const std::string& source) override;

 private:
  SqlCore& core_;
};

class SqlExtractState : public virtual ExtractState {
 public:
  explicit SqlExtractState(SqlCore& core) : core_(core) {}
  std::optional<ExtractCursor> GetExtractState(const std::string& source) override;
  void StageExtractFiles(const std::vector<ExtractFile>& files) override;
  int64_t CommitExtract(const ExtractCommit& commit) override;
  std::vector<ExtractFile> ExtractFiles(const std::string& source) override;
  void DropExtractFile(const std::string& staging_key) override;

 private:
  SqlCore& core_;
};

class SqlQualityHistory : public virtual QualityHistory {
 public:
  explicit SqlQualityHistory(SqlCore& core) : core_(core) {}
  std::vector<double> RuleHistory(const std::string& table, const std::string& rule, size_t n,
                                  const std::string& kind) override;
  std::vector<CheckHistoryEntry> CheckHistory(const std::string& table, size_t runs) override;

 private:
  SqlCore& core_;
};

class SqlSnapshotStore : public virtual SnapshotStore {
 public:
  explicit SqlSnapshotStore(SqlCore& core) : core_(core) {}
  void PutSnapshot(const std::string& hash, const std::string& manifest) override;
  std::optional<std::string> GetSnapshot(const std::string& hash) override;

 private:
  SqlCore& core_;
};

// Statements that more than one store runs inside its own transaction, each owned by one store's
// .cc (the caller holds a Transaction on `core`).
// sql_catalog.cc: a table's next version (Publisher::CommitRun).
void ApplyTableChange(SqlCore& core, const TableChange& change, int64_t run_id);
// sql_run_log.cc: a run's final record with its steps and checks (FinishRun, CommitRun); a run
// by id (WorkQueue::RequestCancel).
void WriteRunRecord(SqlCore& core, const Run& run, const std::vector<RunStep>& steps,
                    const std::vector<CheckResult>& checks);
std::optional<Run> SelectRun(SqlCore& core, int64_t id);
// sql_work_queue.cc: a queued run (EnqueueRun, Triggers::EnqueueArrivals).
int64_t InsertQueuedRun(SqlCore& core, const Run& run);

}  // namespace sluice::meta
