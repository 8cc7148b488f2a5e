#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/time_travel.h"
#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "engine/capture.h"
#include "engine/sql_shape.h"
#include "quality/check_specs.h"
#include "transform/checks.h"
#include "transform/output.h"
#include "transform/run.h"
#include "transform/set_aside.h"
#include "transform/snapshot.h"
#include "transform/validate.h"

namespace sluice::transform {

RunReport RunModel(Workspace& ws, const project::Model& model, const RunOptions& options) {
  RunReport report;
  report.kind = "model";
  report.name = model.table.str();
  report.output = model.table.str();
  int64_t started = NowMs();
  auto& metastore = *ws.metastore;
  report.run_id = metastore.StartRun("model", report.name, options.trigger, RecordSnapshot(ws));
  if (options.on_start) options.on_start(report.run_id);
  meta::Run run{report.run_id,   "model", report.name, meta::RunStatus::kRunning,
                options.trigger, started};
  // A run that publishes nothing, and says why.
  auto unchanged = [&](const std::string& message) {
    report.status = run.status = meta::RunStatus::kSucceeded;
    report.message = message;
    run.details = nlohmann::json{{"message", report.message}}.dump();
    run.ended_ms = NowMs();
    metastore.FinishRun(run, {}, {});
    report.duration_ms = run.ended_ms - started;
    return report;
  };
  try {
    project::Diagnostics diagnostics;
    auto rules = quality::ParseCheckSpecs(model.checks, diagnostics);
    diagnostics.ThrowIfAny();
    AddDestinationKeyChecks(ws.project, model.table, rules);
    AddUniqueKeyCheck(model, rules);
    for (const auto& ref : model.refs) {
      if (!metastore.GetTable(ref.table.db, ref.table.name)) {
        FailWithCode(ErrorKind::kInput, "input.not_in_catalog",
                     "{}: {} is not in the catalog yet\n  hint: run what builds it "
                     "first, or `sluice run --all`",
                     ref.where.str(), ref.table.str());
      }
    }
    engine::Database db;
    engine::Connection conn(db);
    int64_t base_version = CurrentVersion(metastore, model.table);
    // An incremental model's first run, or a full refresh, builds the table whole.
    const bool incremental = model.incremental && base_version > 0 && !options.full_refresh;
    lake::Fetched held;
    catalog::AttachTables(conn, metastore, *ws.store, held);
    std::string sql =
        Trim(engine::WithoutTerminator(conn, ws.project.CompiledModelSql(model, incremental)));
    try {
      // Tables read AT a version are views of that version's files (catalog/time_travel.h).
      auto travel = catalog::ResolveTimeTravel(metastore, sql);
      catalog::AttachTables(conn, travel.tables, *ws.store, held);
      sql = travel.sql;
    } catch (const Error& e) {
      throw Error(e.kind(), e.code(), model.where.file + ": " + e.what());
    }
    try {
      conn.Inspect(sql);  // binds the model alone, so errors point into the model's own text
    } catch (const Error& e) {
      FailWithCode(ErrorKind::kInput, "input.sql", "{}: {}", model.where.file, e.what());
    }
    std::optional<SnapshotPlan> snapshot;
    if (model.snapshot) {
      // A snapshot is never rebuilt: its history is not in its input any more.
      snapshot = PlanSnapshot(conn, model, sql, base_version > 0, started);
      if (base_version > 0 && !snapshot->changes()) {
        return unchanged(options.full_refresh
                             ? "no row changed since the last run; nothing changed "
                               "(--full-refresh does not rebuild a snapshot: its history is not "
                               "in its input)"
                             : "no row changed since the last run; nothing changed");
      }
      sql = snapshot->sql;
    }
    // Rows breaking a quarantining check are set aside while the batch is written.
    bool quarantining = std::any_of(rules.begin(), rules.end(), [](const quality::Rule& r) {
      return r.on_fail == "quarantine";
    });
    std::optional<engine::RowCapture> aside;
    if (quarantining) {
      aside.emplace(conn, kSetAside);
      std::string ctes = fmt::format(
          "WITH m AS (SELECT *, CAST(NULL AS INTEGER) AS _sluice_file FROM ({}\n))", sql);
      ctes += fmt::format(", checked AS ({})", ChecksSql(rules, "m", DataColumns(conn, ctes, "m")));
      try {
        DataColumns(conn, ctes, "checked");
      } catch (const Error& e) {
        const auto& where =
            model.checks.empty() ? model.destination->where : model.checks.front().where;
        FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                     "{}: the checks of model {} (or the key of its destination) do not fit its "
                     "output: {}",
                     where.str(), report.name, e.what());
      }
      sql = ctes + " SELECT * EXCLUDE (_sluice_file) FROM checked";
    }
    OutputSpec spec{
        model.table,      "model", incremental ? project::ModelOutputMode(model) : "overwrite",
        model.unique_key, {},      "",
        base_version};
    CheckMergeKey(metastore.GetTable(model.table.db, model.table.name), spec);
    std::unique_ptr<Batch> batch;
    try {
      batch = WriteBatch(conn, *ws.store, spec, sql, run.id, options);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kIo) throw;
      FailWithCode(ErrorKind::kInput, "input.sql", "{}: {}", model.where.file, e.what());
    }
    // An incremental run that found nothing new leaves the table as it is.
    if (incremental && batch->rows() == 0 && (!aside || aside->rows().empty())) {
      return unchanged("no new rows since the last run; nothing changed");
    }
    if (aside) {
      aside->Materialize(conn, "_set_aside");
      conn.Execute(
          "CREATE TEMP TABLE _quarantine AS SELECT CAST(NULL AS VARCHAR) AS _source_file, "
          "CAST(NULL AS BIGINT) AS _line, reason AS _reason, raw AS _raw FROM _set_aside");
    }
    quality::History history = [&](const std::string& rule, size_t n) {
      return metastore.RuleHistory(report.output, rule, n, "model");
    };
    report.checks = JudgeBatch(conn, batch->ScanSql(), report.output, rules, history,
                               aside ? "_quarantine" : "");
    quality::RequirePassing(report.checks, "model " + report.name);
    meta::RunCommit commit;
    commit.tables.push_back(Publish(conn, *ws.store, metastore, spec, *batch, run.id, options));
    commit.steps.push_back(
        {run.id, 0, "write " + report.output, "succeeded", started, NowMs(), batch->rows(), ""});
    report.rows_out = run.rows_out = batch->rows();
    report.rows_quarantined = run.rows_quarantined =
        aside ? static_cast<int64_t>(aside->rows().size()) : 0;
    if (report.rows_quarantined > 0) {
      // quarantine.<db>_<name>: a model's rows set aside, beside the jobs' quarantine tables.
      project::TableName q{"quarantine", QuarantineName(model.table)};
      int64_t t = NowMs();
      auto qw = WriteQuarantine(conn, *ws.store, metastore, q, run.id, commit.tables);
      commit.steps.push_back({run.id, 1, "write " + q.str(), "succeeded", t, NowMs(), qw.rows, ""});
      commit.tables.push_back(qw.change);
    }
    auto existing = metastore.GetTable(model.table.db, model.table.name);
    report.version = existing ? existing->version + 1 : 1;
    run.status = report.status = meta::RunStatus::kSucceeded;
    run.ended_ms = NowMs();
    run.details = nlohmann::json{{"output", report.output}, {"version", report.version}}.dump();
    commit.run = run;
    commit.checks = report.checks;
    CommitOrDiscard(*ws.store, metastore, commit);
    report.duration_ms = run.ended_ms - started;
    report.message =
        fmt::format("{} row{}", HumanCount(report.rows_out), report.rows_out == 1 ? "" : "s");
    if (report.rows_quarantined > 0) {
      report.message += fmt::format(", {} quarantined", HumanCount(report.rows_quarantined));
    }
    if (snapshot) {
      report.message += fmt::format(
          " ({} new, {} changed{})", HumanCount(snapshot->opened), HumanCount(snapshot->changed),
          model.invalidate_hard_deletes ? fmt::format(", {} gone", HumanCount(snapshot->ended))
                                        : "");
    }
    return report;
  } catch (const std::exception& e) {
    run.rows_out = run.rows_quarantined = 0;  // nothing was published
    run.details.clear();
    metastore.StopRun(run, e, Redact(e.what()), {}, report.checks);
    throw;
  }
}

}  // namespace sluice::transform
