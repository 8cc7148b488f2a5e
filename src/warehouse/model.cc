#include "warehouse/model.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "warehouse/load.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {
namespace {

// The model's SQL with each {{ ref() }} replaced by the quoted name of the warehouse table it
// reads; fails for one that is not there yet.
std::string CompiledSql(const project::Project& project, const project::Model& model,
                        Warehouse& wh) {
  std::string sql = model.sql;
  // From the last reference to the first, so earlier offsets still hold.
  for (auto it = model.refs.rbegin(); it != model.refs.rend(); ++it) {
    auto d = project::WarehouseTable(project, it->table);
    size_t end = sql.find("}}", it->offset);
    if (!d || end == std::string::npos) continue;  // validate refuses both
    Target read{d->schema, d->table};
    if (!wh.Columns(read)) {
      if (project::IsWarehouseModel(project, it->table)) {
        FailWithCode(ErrorKind::kInput, "input.not_in_warehouse",
                     "{}: warehouse model {} has not been built yet\n  hint: `sluice run {}` "
                     "first, or `sluice run --all`",
                     it->where.str(), it->table.str(), it->table.str());
      }
      FailWithCode(ErrorKind::kInput, "input.not_in_warehouse",
                   "{}: {} is not in the warehouse yet: its destination {} does not exist\n  "
                   "hint: run what writes {} first (its destination is loaded after it), or "
                   "`sluice load {}`",
                   it->where.str(), it->table.str(), read.str(), it->table.str(), it->table.str());
    }
    sql.replace(it->offset, end + 2 - it->offset, read.sql());
  }
  return sql;
}

}  // namespace

transform::RunReport RunWarehouseModel(transform::Workspace& ws, const project::Model& model,
                                       const transform::RunOptions& options) {
  transform::RunReport report;
  report.kind = "model";
  report.name = report.output = model.table.str();
  int64_t started = NowMs();
  auto& metastore = *ws.metastore;
  report.run_id =
      metastore.StartRun("model", report.name, options.trigger, transform::RecordSnapshot(ws));
  if (options.on_start) options.on_start(report.run_id);
  meta::Run run{report.run_id,   "model", report.name, meta::RunStatus::kRunning,
                options.trigger, started};
  try {
    auto wh = Open(ws.project.env);
    std::string sql = CompiledSql(ws.project, model, *wh);
    Target target{model.table.db, model.table.name};
    // One staging name per model, short enough for any warehouse's identifiers.
    Target stage{target.schema, "_sluice_build_" + Sha256Hex(target.table).substr(0, 16)};
    wh->Begin();
    wh->Lock(target);
    wh->Execute("CREATE SCHEMA IF NOT EXISTS " + Quote(target.schema));
    wh->Execute("DROP TABLE IF EXISTS " + stage.sql());
    try {
      report.rows_out = run.rows_out = wh->CreateTableAs(stage, sql);
    } catch (const Error& e) {
      if (e.code() != "input.sql" && e.code() != "warehouse.query") throw;
      FailWithCode(ErrorKind::kInput, "input.sql", "{}: {}", model.where.file, e.what());
    }
    wh->Execute("DROP TABLE IF EXISTS " + target.sql());
    wh->Execute(fmt::format("ALTER TABLE {} RENAME TO {}", stage.sql(), Quote(target.table)));
    wh->Commit();
    run.status = report.status = meta::RunStatus::kSucceeded;
    run.ended_ms = NowMs();
    run.details = nlohmann::json{{"output", report.output}, {"warehouse", target.str()}}.dump();
    meta::RunCommit commit;
    commit.run = run;
    commit.steps.push_back({run.id, 0, "build " + target.str() + " in the warehouse", "succeeded",
                            started, run.ended_ms, run.rows_out, ""});
    metastore.CommitRun(commit);
    report.duration_ms = run.ended_ms - started;
    report.message = fmt::format("built {} in the warehouse: {} row{}", target.str(),
                                 HumanCount(report.rows_out), report.rows_out == 1 ? "" : "s");
    return report;
  } catch (const std::exception& e) {
    run.rows_out = 0;  // nothing was built
    run.details.clear();
    metastore.StopRun(run, e, Redact(e.what()), {}, {});
    throw;
  }
}

transform::RunReport RunAnyModel(transform::Workspace& ws, const project::Model& model,
                                 const transform::RunOptions& options) {
  if (model.materialized == project::Materialized::kWarehouse) {
    return RunWarehouseModel(ws, model, options);
  }
  return transform::RunModel(ws, model, options);
}

bool UsesWarehouse(const project::Project& project, const std::string& kind,
                   const std::string& name) {
  if (kind == "model") {
    auto table = project::TableName::Parse(name);
    if (table && project::IsWarehouseModel(project, *table)) return true;
  }
  return HasDestination(project, kind, name);
}

}  // namespace sluice::warehouse
