#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

int64_t InsertQueuedRun(SqlCore& core, const Run& run) {
  Statement s(core,
              "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, params, "
              "definition, parent_run_id, snapshot) VALUES (?, ?, " +
                  Sql(RunStatus::kQueued) + ", ?, 0, ?, ?, ?, ?, ?)" +
                  core.dialect().Returning("id"));
  s.Bind(1, run.kind).Bind(2, run.name).Bind(3, run.trigger);
  s.Bind(4, run.queued_ms ? run.queued_ms : NowMs())
      .Bind(5, run.params.empty() ? "{}" : run.params);
  s.Bind(6, run.definition).BindOrNull(7, run.parent_run_id).Bind(8, run.snapshot);
  s.Step();
  return s.Int(0);
}

int64_t SqlWorkQueue::EnqueueRun(const Run& run) {
  Transaction tx(core_);
  int64_t id = InsertQueuedRun(core_, run);
  tx.Commit();
  return id;
}

bool SqlWorkQueue::ClaimRun(int64_t id, const std::string& owner) {
  auto lock = core_.Lock();
  // The process clock, as the run's other times (ended_ms): the database's clock, read through a
  // double, may fall a millisecond behind it and make back-to-back runs seem to overlap.
  Statement s(core_,
              "UPDATE runs SET status = " + Sql(RunStatus::kRunning) +
                  ", owner = ?, started_ms = CASE WHEN started_ms = 0 THEN ? ELSE started_ms "
                  "END WHERE id = ? AND status IN " +
                  MovesTo({RunStatus::kQueued}, RunStatus::kRunning));
  s.Bind(1, owner).Bind(2, NowMs()).Bind(3, id).Run();
  return core_.Changes() == 1;
}

void SqlWorkQueue::RequeueRun(int64_t id) {
  auto lock = core_.Lock();
  Statement s(core_, "UPDATE runs SET status = " + Sql(RunStatus::kQueued) +
                         ", owner = '' WHERE id = ? AND status IN " +
                         MovesTo({RunStatus::kRunning}, RunStatus::kQueued));
  s.Bind(1, id).Run();
}

std::optional<Run> SqlWorkQueue::RequestCancel(int64_t id) {
  Transaction tx(core_);
  Statement q(core_, "UPDATE runs SET status = " + Sql(RunStatus::kCancelled) +
                         ", ended_ms = ?, error = 'cancelled before it started' WHERE id = ? AND "
                         "status IN " +
                         MovesTo({RunStatus::kQueued}, RunStatus::kCancelled));
  q.Bind(1, NowMs()).Bind(2, id).Run();
  Statement r(core_, "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status = " +
                         Sql(RunStatus::kRunning));
  r.Bind(1, id).Run();
  auto run = SelectRun(core_, id);
  tx.Commit();
  return run;
}

bool SqlWorkQueue::RedriveRun(int64_t id, const std::optional<RunDefinitions>& definitions) {
  Transaction tx(core_);
  Statement r(core_, "UPDATE runs SET status = " + Sql(RunStatus::kQueued) +
                         ", owner = '', ended_ms = NULL, error = '', cancel_requested = 0" +
                         (definitions ? ", definition = ?, snapshot = ?" : "") + " WHERE id = ? " +
                         "AND status IN " +
                         MovesTo({RunStatus::kFailed, RunStatus::kCancelled}, RunStatus::kQueued));
  int id_at = 1;
  if (definitions) {
    r.Bind(1, definitions->workflow).Bind(2, definitions->snapshot);
    id_at = 3;
  }
  r.Bind(id_at, id).Run();
  if (core_.Changes() != 1) return false;
  // Containers pick up where their children were; leaves get a new attempt, whose start is
  // theirs (WorkflowState::BeginAttempt).
  Statement c(core_,
              "UPDATE steps SET status = " + Sql(StepStatus::kRunning) +
                  ", started_ms = ?, ended_ms = NULL WHERE run_id = ? AND status IN " +
                  MovesTo({StepStatus::kFailed, StepStatus::kCancelled}, StepStatus::kRunning) +
                  " AND kind IN ('parallel', 'choice', 'map', 'workflow')");
  c.Bind(1, NowMs()).Bind(2, id).Run();
  Statement l(core_,
              "UPDATE steps SET status = " + Sql(StepStatus::kRetrying) +
                  " WHERE run_id = ? AND status IN " +
                  MovesTo({StepStatus::kFailed, StepStatus::kCancelled}, StepStatus::kRetrying));
  l.Bind(1, id).Run();
  tx.Commit();
  return true;
}

}  // namespace sluice::meta
