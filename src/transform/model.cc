#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "transform/output.h"
#include "transform/run.h"

namespace sluice::transform {

RunReport RunModel(Workspace& ws, const project::Model& model, const RunOptions& options) {
  RunReport report;
  report.kind = "model";
  report.name = model.table.str();
  report.output = model.table.str();
  int64_t started = NowMs();
  auto& metastore = *ws.metastore;
  report.run_id = metastore.StartRun("model", report.name, options.trigger);
  if (options.on_start) options.on_start(report.run_id);
  meta::Run run{report.run_id, "model", report.name, "running", options.trigger, started};
  try {
    for (const auto& ref : model.refs) {
      if (!metastore.GetTable(ref.table.db, ref.table.name)) {
        Fail(ErrorKind::kInput,
             "{}: {} is not in the catalog yet\n  hint: run what builds it "
             "first, or `sluice run --all`",
             ref.where.str(), ref.table.str());
      }
    }
    engine::Database db;
    engine::Connection conn(db);
    catalog::AttachTables(conn, metastore, *ws.store);
    std::string sql = Trim(ws.project.CompiledModelSql(model));
    while (!sql.empty() && sql.back() == ';') sql = Trim(sql.substr(0, sql.size() - 1));
    try {
      conn.Inspect(sql);  // binds the model alone, so errors point into the model's own text
    } catch (const Error& e) {
      Fail(ErrorKind::kInput, "{}: {}", model.where.file, e.what());
    }
    OutputSpec spec{model.table, "model", "overwrite", {}, {}};
    WrittenTable written;
    try {
      written = WriteTable(conn, *ws.store, metastore, spec, sql, run.id, options);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kIo) throw;
      Fail(ErrorKind::kInput, "{}: {}", model.where.file, e.what());
    }
    report.rows_out = run.rows_out = written.rows;
    auto existing = metastore.GetTable(model.table.db, model.table.name);
    report.version = existing ? existing->version + 1 : 1;
    run.status = report.status = "succeeded";
    run.ended_ms = NowMs();
    run.details = nlohmann::json{{"output", report.output}, {"version", report.version}}.dump();
    meta::RunCommit commit;
    commit.run = run;
    commit.tables.push_back(written.change);
    commit.steps.push_back({run.id, 0, "write " + report.output, "succeeded", started, run.ended_ms,
                            written.rows, ""});
    metastore.CommitRun(commit);
    report.duration_ms = run.ended_ms - started;
    report.message =
        fmt::format("{} row{}", HumanCount(report.rows_out), report.rows_out == 1 ? "" : "s");
    return report;
  } catch (const std::exception& e) {
    metastore.FailRun(run, Redact(e.what()));
    throw;
  }
}

}  // namespace sluice::transform
