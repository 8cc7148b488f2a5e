#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"
#include "meta/status.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

std::vector<StepState> SqlWorkflowState::Steps(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT path, kind, status, attempts, started_ms, coalesce(ended_ms, 0), output, "
              "error_kind, error FROM steps WHERE run_id = ? ORDER BY started_ms, " +
                  std::string(core_.dialect().InsertionOrder()));
  s.Bind(1, run_id);
  std::vector<StepState> out;
  while (s.Step()) {
    out.push_back({run_id, s.Text(0), s.Text(1), ParseStepStatus(s.Text(2)),
                   static_cast<int>(s.Int(3)), s.Int(4), s.Int(5), s.Text(6), s.Text(7),
                   s.Text(8)});
  }
  return out;
}

std::vector<Attempt> SqlWorkflowState::Attempts(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT path, attempt, status, started_ms, coalesce(ended_ms, 0), error_kind, error, "
              "coalesce(child_run_id, 0) FROM attempts WHERE run_id = ? ORDER BY started_ms, " +
                  std::string(core_.dialect().InsertionOrder()));
  s.Bind(1, run_id);
  std::vector<Attempt> out;
  while (s.Step()) {
    out.push_back({run_id, s.Text(0), static_cast<int>(s.Int(1)), ParseAttemptStatus(s.Text(2)),
                   s.Int(3), s.Int(4), s.Text(5), s.Text(6), s.Int(7)});
  }
  return out;
}

void SqlWorkflowState::BeginAttempt(int64_t run_id, const std::string& path,
                                    const std::string& kind, int attempt) {
  Transaction tx(core_);
  int64_t now = NowMs();
  Statement st(core_,
               "INSERT INTO steps (run_id, path, kind, status, attempts, started_ms) "
               "VALUES (?, ?, ?, " +
                   Sql(StepStatus::kRunning) +
                   ", ?, ?) ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, "
                   "status = excluded.status, attempts = excluded.attempts, started_ms = CASE "
                   "WHEN steps.ended_ms IS NULL THEN steps.started_ms ELSE excluded.started_ms "
                   "END, ended_ms = NULL");
  st.Bind(1, run_id).Bind(2, path).Bind(3, kind).Bind(4, attempt).Bind(5, now).Run();
  Statement at(core_,
               "INSERT INTO attempts (run_id, path, attempt, status, started_ms) "
               "VALUES (?, ?, ?, " +
                   Sql(AttemptStatus::kRunning) + ", ?)" +
                   core_.dialect().Upsert("run_id, path, attempt", {"status", "started_ms"}) +
                   ", ended_ms = NULL, error_kind = '', error = '', child_run_id = NULL");
  at.Bind(1, run_id).Bind(2, path).Bind(3, attempt).Bind(4, now).Run();
  tx.Commit();
}

void SqlWorkflowState::SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                                       int64_t child_run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "UPDATE attempts SET child_run_id = ? WHERE run_id = ? AND path = ? AND attempt = ?");
  s.Bind(1, child_run_id).Bind(2, run_id).Bind(3, path).Bind(4, attempt).Run();
}

void SqlWorkflowState::EndAttempt(const Attempt& a, StepStatus to, const std::string& output) {
  Transaction tx(core_);
  // The moves must be the table's (meta/status.h); a missing row changes nothing.
  {
    Statement cur(
        core_,
        "SELECT s.status, a.status FROM steps s LEFT JOIN attempts a ON a.run_id = s.run_id "
        "AND a.path = s.path AND a.attempt = ? WHERE s.run_id = ? AND s.path = ?");
    cur.Bind(1, a.attempt).Bind(2, a.run_id).Bind(3, a.path);
    if (cur.Step()) {
      CheckTransition(ParseStepStatus(cur.Text(0)), to);
      if (!cur.IsNull(1)) {
        CheckTransition(ParseAttemptStatus(cur.Text(1)), a.status);
      }
    }
  }
  int64_t now = a.ended_ms ? a.ended_ms : NowMs();
  Statement at(core_,
               "UPDATE attempts SET status = ?, ended_ms = ?, error_kind = ?, error = ? "
               "WHERE run_id = ? AND path = ? AND attempt = ?");
  at.Bind(1, ToString(a.status)).Bind(2, now).Bind(3, a.error_kind).Bind(4, a.error);
  at.Bind(5, a.run_id).Bind(6, a.path).Bind(7, a.attempt).Run();
  bool done = IsTerminal(to);
  Statement st(core_,
               "UPDATE steps SET status = ?, ended_ms = ?, output = ?, error_kind = ?, error = ? "
               "WHERE run_id = ? AND path = ?");
  st.Bind(1, ToString(to));
  if (done) {
    st.Bind(2, now);
  } else {
    st.BindNull(2);
  }
  st.Bind(3, output.empty() ? "{}" : output).Bind(4, a.error_kind).Bind(5, a.error);
  st.Bind(6, a.run_id).Bind(7, a.path).Run();
  tx.Commit();
}

}  // namespace sluice::meta
