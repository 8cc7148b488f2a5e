#include "warehouse/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "warehouse/apply.h"
#include "warehouse/load.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {
namespace {

// The model's SQL with each {{ ref() }} replaced by the quoted name of the warehouse table it
// reads, and {{ this }} by `self`; fails for a table that is not there yet.
std::string CompiledSql(const project::Project& project, const project::Model& model, Warehouse& wh,
                        bool incremental, const Target& self) {
  for (const auto& ref : model.refs) {
    auto d = project::WarehouseTable(project, ref.table);
    if (!d || wh.Columns(Target{d->schema, d->table})) continue;  // validate refuses !d
    if (project::IsWarehouseModel(project, ref.table)) {
      FailWithCode(ErrorKind::kInput, "input.not_in_warehouse",
                   "{}: warehouse model {} has not been built yet\n  hint: `sluice run {}` "
                   "first, or `sluice run --all`",
                   ref.where.str(), ref.table.str(), ref.table.str());
    }
    FailWithCode(ErrorKind::kInput, "input.not_in_warehouse",
                 "{}: {} is not in the warehouse yet: its destination {}.{} does not exist\n  "
                 "hint: run what writes {} first (its destination is loaded after it), or "
                 "`sluice load {}`",
                 ref.where.str(), ref.table.str(), d->schema, d->table, ref.table.str(),
                 ref.table.str());
  }
  return project.CompiledModelSql(
      model, incremental,
      [&](const project::Ref& ref) {
        auto d = project::WarehouseTable(project, ref.table);
        return d ? Target{d->schema, d->table}.sql() : ref.table.str();
      },
      self.sql());
}

// The model's rows in `stage` hold each unique_key once, with no NULL in it.
void CheckUniqueKey(Warehouse& wh, const project::Model& model, const Target& stage) {
  const auto& key = model.unique_key;
  if (key.empty()) return;
  auto names = ColumnNames(wh.Columns(stage).value_or(std::vector<Column>{}));
  for (const auto& k : key) {
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "{}: the unique_key column '{}' (of its settings file) is not a column of "
                   "the model ({})",
                   model.where.file, k, Join(names, ", "));
    }
  }
  if (int64_t nulls = NullKeyRows(wh, stage.sql(), key); nulls > 0) {
    FailWithCode(ErrorKind::kInput, "input.null_key",
                 "{}: {} row(s) of this run have no value in the unique_key ({}); nothing "
                 "changed\n  hint: leave them out in the model's SQL",
                 model.where.file, nulls, Join(key, ", "));
  }
  if (auto dup = RepeatedKey(wh, stage.sql(), key)) {
    FailWithCode(ErrorKind::kInput, "input.duplicate_key",
                 "{}: unique_key ({}) appears {} times in the rows of this run; nothing "
                 "changed\n  hint: keep one row per key in the model's SQL (e.g. SELECT "
                 "DISTINCT ON ({}) ... ORDER BY ...)",
                 model.where.file, dup->first, dup->second, Join(key, ", "));
  }
}

// Which key each incremental warehouse model's table was built with: a run on another key (or
// none) would collapse rows or repeat keys. Both engines take this DDL as written.
constexpr const char* kModelKeys = "\"sluice\".\"model_keys\"";

void EnsureModelKeys(Warehouse& wh) {
  EnsureSluiceTable(wh, "model_keys",
                    "target VARCHAR NOT NULL PRIMARY KEY, unique_key VARCHAR NOT NULL, built_at "
                    "TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT current_timestamp");
}

// Fails when `target` was built with another unique_key than `model` has now.
void CheckKeyUnchanged(Warehouse& wh, const project::Model& model, const Target& target) {
  auto rows = wh.Query(fmt::format("SELECT unique_key FROM {} WHERE target = {}", kModelKeys,
                                   Literal(target.str())));
  if (rows.empty() || !rows[0][0]) return;
  auto had = nlohmann::json::parse(*rows[0][0], nullptr, false);
  if (had.is_discarded() || had == nlohmann::json(model.unique_key)) return;
  std::vector<std::string> names;
  for (const auto& k : had) names.push_back(k.is_string() ? k.get<std::string>() : k.dump());
  FailWithCode(ErrorKind::kConfig, "config.key_change",
               "{}: {} was built with unique_key [{}], and the model's is [{}] now; nothing "
               "changed\n  hint: run once with --full-refresh to rebuild the table on the new key",
               model.where.file, target.str(), Join(names, ", "), Join(model.unique_key, ", "));
}

// A full build: the staging table becomes `target`, the old one goes (the caller's transaction).
std::string Replace(Warehouse& wh, const project::Model& model, const Target& target,
                    const Target& stage, int64_t rows) {
  wh.Execute("DROP TABLE IF EXISTS " + target.sql());
  wh.Execute(fmt::format("ALTER TABLE {} RENAME TO {}", stage.sql(), Quote(target.table)));
  if (model.incremental) {
    wh.Execute(fmt::format("DELETE FROM {} WHERE target = {}", kModelKeys, Literal(target.str())));
    wh.Execute(fmt::format("INSERT INTO {} (target, unique_key) VALUES ({}, {})", kModelKeys,
                           Literal(target.str()),
                           Literal(nlohmann::json(model.unique_key).dump())));
  }
  return fmt::format("built {} in the warehouse: {} row{}", target.str(), HumanCount(rows),
                     rows == 1 ? "" : "s");
}

// An incremental run: the staging table's rows merged into `target` (whose columns are
// `existing`) on the model's unique_key, or appended without one (the caller's transaction).
std::string AddRows(Warehouse& wh, const project::Model& model, const Target& target,
                    const std::vector<Column>& existing, const Target& stage, int64_t rows) {
  // The rows go into the table as it is: the same columns and types, in any order.
  auto columns = wh.Columns(stage).value_or(std::vector<Column>{});
  auto names = ColumnNames(columns);
  auto typed = [](const std::vector<Column>& cs) {
    std::set<std::string> out;
    for (const auto& c : cs) out.insert(c.name + " " + c.type);
    return out;
  };
  if (typed(columns) != typed(existing)) {
    auto list = [](const std::set<std::string>& s) {
      return Join(std::vector<std::string>(s.begin(), s.end()), ", ");
    };
    FailWithCode(ErrorKind::kInput, "input.columns_changed",
                 "{}: this run's columns ({}) are not those of {} ({}); nothing changed\n  "
                 "hint: `sluice run {} --full-refresh` rebuilds the table with the new columns",
                 model.where.file, list(typed(columns)), target.str(), list(typed(existing)),
                 model.table.str());
  }
  std::string plural = rows == 1 ? "" : "s";
  std::string message;
  if (model.unique_key.empty()) {
    wh.Execute(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target.sql(), QuotedList(names),
                           QuotedList(names), stage.sql()));
    message = fmt::format("appended {} row{} to {} in the warehouse", HumanCount(rows), plural,
                          target.str());
  } else {
    if (auto index = wh.KeyIndex(target, KeyIndexName(target), model.unique_key); !index.empty()) {
      wh.Execute(index);
    }
    auto merged =
        MergeRows(wh, target, stage.sql(), names, model.unique_key, MergeAliases(existing));
    message = fmt::format("merged {} row{} into {} in the warehouse: {} inserted, {} updated",
                          HumanCount(rows), plural, target.str(), HumanCount(merged.inserted),
                          HumanCount(merged.updated));
  }
  wh.Execute("DROP TABLE " + stage.sql());
  return message;
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
    Target target{model.table.db, model.table.name};
    // One staging name per model, short enough for any warehouse's identifiers.
    Target stage{target.schema, "_sluice_build_" + Sha256Hex(target.table).substr(0, 16)};
    if (model.incremental) EnsureModelKeys(*wh);
    wh->Begin();
    wh->Lock(target);
    // Read under the lock: another run of the model may have just rebuilt the table.
    auto existing = wh->Columns(target);
    // An incremental model's first run, or a full refresh, builds the table whole.
    const bool incremental = model.incremental && existing && !options.full_refresh;
    std::string sql = CompiledSql(ws.project, model, *wh, incremental, target);
    if (incremental) CheckKeyUnchanged(*wh, model, target);
    wh->Execute("CREATE SCHEMA IF NOT EXISTS " + Quote(target.schema));
    wh->Execute("DROP TABLE IF EXISTS " + stage.sql());
    int64_t rows = 0;
    try {
      rows = wh->CreateTableAs(stage, sql);
      CheckUniqueKey(*wh, model, stage);
      report.message = incremental ? AddRows(*wh, model, target, *existing, stage, rows)
                                   : Replace(*wh, model, target, stage, rows);
    } catch (const Error& e) {
      // What the warehouse refused of the model's SQL or its rows, named by the model's file.
      if (e.code() != "input.sql" && e.code() != "warehouse.query") throw;
      FailWithCode(ErrorKind::kInput, "input.sql", "{}: {}", model.where.file, e.what());
    }
    wh->Commit();
    report.rows_out = run.rows_out = rows;
    run.status = report.status = meta::RunStatus::kSucceeded;
    run.ended_ms = NowMs();
    run.details = nlohmann::json{{"output", report.output}, {"warehouse", target.str()}}.dump();
    meta::RunCommit commit;
    commit.run = run;
    commit.steps.push_back({run.id, 0, "build " + target.str() + " in the warehouse", "succeeded",
                            started, run.ended_ms, run.rows_out, ""});
    metastore.CommitRun(commit);
    report.duration_ms = run.ended_ms - started;
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
  if (model.in_warehouse) {
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
