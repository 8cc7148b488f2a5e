#pragma once
#include <string>

#include "common/files.h"
#include "meta/metastore.h"
#include "meta/sql_core.h"

namespace sluice::meta {

// The embedded metastore: one SQLite file in WAL mode, migrated to the newest schema on open.
class SqliteMetastore : public Metastore {
 public:
  explicit SqliteMetastore(const fs::path& path);
  ~SqliteMetastore() override;

  std::vector<Table> ListTables() override;
  std::optional<Table> GetTable(const std::string& db, const std::string& name) override;
  std::vector<TableFile> TableFiles(int64_t table_id, int64_t version,
                                    bool include_quarantined) override;
  std::vector<TableVersion> TableVersions(int64_t table_id) override;
  std::vector<Column> TableColumns(int64_t table_id, int64_t version) override;

  int64_t StartRun(const std::string& kind, const std::string& name,
                   const std::string& trigger) override;
  void CommitRun(const RunCommit& commit) override;
  void FinishRun(const Run& run, const std::vector<RunStep>& steps,
                 const std::vector<CheckResult>& checks) override;
  std::vector<Run> ListRuns(const RunFilter& filter) override;
  std::optional<Run> GetRun(int64_t id) override;

  int64_t EnqueueRun(const Run& run) override;
  int64_t EnqueueArrivals(
      const std::string& workflow, const std::vector<std::string>& keys, Run run,
      const std::function<std::string(const std::vector<std::string>&)>& params) override;
  std::set<std::string> ArrivedKeys(const std::string& workflow) override;
  bool ClaimRun(int64_t id, const std::string& owner) override;
  void RequeueRun(int64_t id) override;
  std::optional<Run> RequestCancel(int64_t id) override;
  bool RedriveRun(int64_t id) override;
  std::vector<StepState> Steps(int64_t run_id) override;
  std::vector<Attempt> Attempts(int64_t run_id) override;
  void BeginAttempt(int64_t run_id, const std::string& path, const std::string& kind,
                    int attempt) override;
  void SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                       int64_t child_run_id) override;
  void EndAttempt(const Attempt& attempt, const std::string& step_status,
                  const std::string& output) override;
  int64_t AppendLog(int64_t run_id, const std::string& level, const std::string& step,
                    const std::string& message) override;
  std::vector<LogLine> Logs(int64_t run_id, int64_t after_id, size_t limit) override;
  std::optional<int64_t> ScheduleMark(const std::string& workflow,
                                      const std::string& trigger) override;
  void SetScheduleMark(const std::string& workflow, const std::string& trigger,
                       int64_t fire_ms) override;
  std::vector<RunStep> RunSteps(int64_t run_id) override;
  std::vector<CheckResult> CheckResults(int64_t run_id) override;

  std::set<std::string> Bookmarks(const std::string& job) override;
  std::vector<double> RuleHistory(const std::string& table, const std::string& rule, size_t n,
                                  const std::string& kind) override;
  std::vector<CheckHistoryEntry> CheckHistory(const std::string& table, size_t runs) override;
  void SetColumnTags(int64_t table_id, const std::map<std::string, std::string>& tags) override;
  std::map<std::string, std::string> ColumnTags(int64_t table_id) override;

  std::optional<LandedFile> FindLanded(const std::string& source,
                                       const std::string& sha256) override;
  void RecordLanded(const LandedFile& file) override;

  bool CreateToken(const std::string& name, const std::string& hash) override;
  std::vector<ApiToken> Tokens() override;
  bool RevokeToken(const std::string& name) override;
  void TouchToken(const std::string& name, int64_t now_ms) override;

  // The schema version after migrations.
  int schema_version();

 private:
  void WriteRunLocked(const Run& run, const std::vector<RunStep>& steps,
                      const std::vector<CheckResult>& checks);
  void ApplyTableChangeLocked(const TableChange& change, int64_t run_id);
  int64_t InsertQueuedLocked(const Run& run);

  SqlCore core_;
};

}  // namespace sluice::meta
