#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

namespace {
const char* kRunColumns =
    "SELECT id, kind, name, status, trigger, started_ms, coalesce(ended_ms, 0), rows_in, "
    "rows_out, rows_quarantined, files_read, error, details, params, definition, "
    "coalesce(parent_run_id, 0), owner, cancel_requested, queued_ms, snapshot FROM runs";
Run ReadRun(auto& s) {
  Run r;
  r.id = s.Int(0);
  r.kind = s.Text(1);
  r.name = s.Text(2);
  r.status = ParseRunStatus(s.Text(3));
  r.trigger = s.Text(4);
  r.started_ms = s.Int(5);
  r.ended_ms = s.Int(6);
  r.rows_in = s.Int(7);
  r.rows_out = s.Int(8);
  r.rows_quarantined = s.Int(9);
  r.files_read = s.Int(10);
  r.error = s.Text(11);
  r.details = s.Text(12);
  r.params = s.Text(13);
  r.definition = s.Text(14);
  r.parent_run_id = s.Int(15);
  r.owner = s.Text(16);
  r.cancel_requested = s.Int(17) != 0;
  r.queued_ms = s.Int(18);
  r.snapshot = s.Text(19);
  return r;
}
}  // namespace

int64_t SqlRunLog::StartRun(const std::string& kind, const std::string& name,
                            const std::string& trigger, const std::string& snapshot) {
  auto lock = core_.Lock();
  Statement s(core_,
              "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, owner, "
              "snapshot) VALUES (?, ?, " +
                  Sql(RunStatus::kRunning) + ", ?, ?, ?, ?, ?)" + core_.dialect().Returning("id"));
  int64_t now = NowMs();
  s.Bind(1, kind).Bind(2, name).Bind(3, trigger).Bind(4, now).Bind(5, now);
  s.Bind(6, ProcessOwner()).Bind(7, snapshot);
  s.Step();
  return s.Int(0);
}

void WriteRunRecord(SqlCore& core, const Run& run, const std::vector<RunStep>& steps,
                    const std::vector<CheckResult>& checks) {
  Statement s(core,
              "UPDATE runs SET status = ?, ended_ms = ?, rows_in = ?, rows_out = ?, "
              "rows_quarantined = ?, files_read = ?, error = ?, details = ? WHERE id = ?");
  s.Bind(1, ToString(run.status))
      .Bind(2, run.ended_ms ? run.ended_ms : NowMs())
      .Bind(3, run.rows_in);
  s.Bind(4, run.rows_out).Bind(5, run.rows_quarantined).Bind(6, run.files_read);
  s.Bind(7, run.error).Bind(8, run.details.empty() ? "{}" : run.details).Bind(9, run.id);
  s.Run();
  for (const auto& step : steps) {
    Statement st(core,
                 "INSERT INTO run_steps (run_id, seq, name, status, started_ms, ended_ms, rows, "
                 "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" +
                     core.dialect().Upsert("run_id, seq", {"name", "status", "started_ms",
                                                           "ended_ms", "rows", "error"}));
    st.Bind(1, run.id).Bind(2, step.seq).Bind(3, step.name).Bind(4, step.status);
    st.Bind(5, step.started_ms).Bind(6, step.ended_ms).Bind(7, step.rows).Bind(8, step.error);
    st.Run();
  }
  int seq = 0;
  for (const auto& c : checks) {
    Statement st(
        core,
        "INSERT INTO check_results (run_id, seq, table_name, rule, on_fail, outcome, observed, "
        "failing_rows, message, value, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(1, run.id).Bind(2, seq++).Bind(3, c.table).Bind(4, c.rule).Bind(5, c.on_fail);
    st.Bind(6, c.outcome).Bind(7, c.observed).Bind(8, c.failing_rows).Bind(9, c.message);
    if (c.value) {
      st.BindReal(10, *c.value);
    } else {
      st.BindNull(10);
    }
    st.Bind(11, c.threshold);
    st.Run();
  }
}

void SqlRunLog::FinishRun(const Run& run, const std::vector<RunStep>& steps,
                          const std::vector<CheckResult>& checks) {
  Transaction tx(core_);
  WriteRunRecord(core_, run, steps, checks);
  tx.Commit();
}

std::vector<Run> SqlRunLog::ListRuns(const RunFilter& filter) {
  std::string sql = std::string(kRunColumns) + " WHERE 1 = 1";
  std::vector<std::string> texts;
  if (!filter.statuses.empty()) {
    sql += " AND status IN (" + Join(std::vector<std::string>(filter.statuses.size(), "?"), ", ") +
           ")";
    for (RunStatus st : filter.statuses) texts.push_back(ToString(st));
  }
  for (auto [column, value] : {std::pair{"kind", &filter.kind}, std::pair{"name", &filter.name},
                               std::pair{"trigger", &filter.trigger}}) {
    if (value->empty()) continue;
    sql += fmt::format(" AND {} = ?", column);
    texts.push_back(*value);
  }
  if (filter.trigger_kind) {
    // The SQL form of TriggerKindOf: exact texts and prefixes; manual is none of them.
    std::vector<std::string> matches;
    for (const auto& p : TriggerPatterns()) {
      bool exact = !p.exact.empty();
      std::string text(exact ? p.exact : p.prefix);
      std::string match =
          exact ? "trigger = ?" : "substr(trigger, 1, " + std::to_string(text.size()) + ") = ?";
      if (*filter.trigger_kind == p.kind) {
        sql += " AND " + match;
        texts.push_back(text);
      } else if (*filter.trigger_kind == TriggerKind::kManual) {
        matches.push_back(match);
        texts.push_back(text);
      }
    }
    if (!matches.empty()) sql += " AND NOT (" + Join(matches, " OR ") + ")";
  }
  if (filter.top_level) sql += " AND parent_run_id IS NULL";
  if (filter.before_id > 0) sql += fmt::format(" AND id < {}", filter.before_id);
  sql += fmt::format(" ORDER BY id DESC LIMIT {}", filter.limit);
  auto lock = core_.Lock();
  Statement s(core_, sql);
  for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i + 1), texts[i]);
  std::vector<Run> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}

std::optional<Run> SelectRun(SqlCore& core, int64_t id) {
  Statement s(core, std::string(kRunColumns) + " WHERE id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadRun(s);
}

std::optional<Run> SqlRunLog::GetRun(int64_t id) {
  auto lock = core_.Lock();
  return SelectRun(core_, id);
}

std::vector<RunStep> SqlRunLog::RunSteps(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT seq, name, status, started_ms, coalesce(ended_ms, 0), rows, error FROM "
              "run_steps WHERE run_id = ? ORDER BY seq");
  s.Bind(1, run_id);
  std::vector<RunStep> out;
  while (s.Step()) {
    out.push_back({run_id, static_cast<int>(s.Int(0)), s.Text(1), s.Text(2), s.Int(3), s.Int(4),
                   s.Int(5), s.Text(6)});
  }
  return out;
}

std::vector<CheckResult> SqlRunLog::CheckResults(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT table_name, rule, on_fail, outcome, observed, failing_rows, message, value, "
              "threshold FROM check_results WHERE run_id = ? ORDER BY seq");
  s.Bind(1, run_id);
  std::vector<CheckResult> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5), s.Text(6)});
    if (!s.IsNull(7)) out.back().value = s.Double(7);
    out.back().threshold = s.Text(8);
  }
  return out;
}

int64_t SqlRunLog::AppendLog(int64_t run_id, const std::string& level, const std::string& step,
                             const std::string& message) {
  auto lock = core_.Lock();
  Statement s(
      core_, "INSERT INTO run_logs (run_id, time_ms, level, step, message) VALUES (?, ?, ?, ?, ?)" +
                 core_.dialect().Returning("id"));
  s.Bind(1, run_id).Bind(2, NowMs()).Bind(3, level).Bind(4, step).Bind(5, message);
  s.Step();
  return s.Int(0);
}

std::vector<LogLine> SqlRunLog::Logs(int64_t run_id, int64_t after_id, size_t limit) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT id, time_ms, level, step, message FROM run_logs WHERE run_id = ? AND id > ? "
              "ORDER BY id LIMIT ?");
  s.Bind(1, run_id).Bind(2, after_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<LogLine> out;
  while (s.Step()) out.push_back({s.Int(0), run_id, s.Int(1), s.Text(2), s.Text(3), s.Text(4)});
  return out;
}

}  // namespace sluice::meta
