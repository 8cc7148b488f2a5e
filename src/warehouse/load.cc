#include "warehouse/load.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/strings.h"
#include "project/reader.h"
#include "warehouse/apply.h"

namespace sluice::warehouse {
namespace {

using json = nlohmann::json;
using project::LoadMode;

constexpr const char* kLedger = "\"sluice\".\"loads\"";

// The ledger: one row per applied load. Both engines take this DDL as written.
void EnsureLedger(Warehouse& wh) {
  EnsureSluiceTable(
      wh, "loads",
      "target VARCHAR NOT NULL, catalog_table VARCHAR NOT NULL, "
      "table_id BIGINT NOT NULL, version BIGINT NOT NULL, mode VARCHAR NOT NULL, key_columns "
      "VARCHAR NOT NULL, files BIGINT NOT NULL, row_count BIGINT NOT NULL, inserted BIGINT NOT "
      "NULL, updated BIGINT NOT NULL, deleted BIGINT NOT NULL, loaded_at TIMESTAMP WITH TIME ZONE "
      "NOT NULL DEFAULT current_timestamp, PRIMARY KEY (target, table_id, version)");
}

// The ledger's latest load into a target.
struct Applied {
  std::string catalog_table;
  int64_t table_id = 0, version = 0;
  std::string mode;
  std::vector<std::string> key;
};

std::optional<Applied> LastApplied(Warehouse& wh, const Target& target) {
  auto rows = wh.Query(fmt::format(
      "SELECT catalog_table, CAST(table_id AS VARCHAR), CAST(version AS VARCHAR), mode, "
      "key_columns FROM {} WHERE target = {} ORDER BY loaded_at DESC, version DESC LIMIT 1",
      kLedger, Literal(target.str())));
  if (rows.empty()) return std::nullopt;
  Applied a;
  a.catalog_table = rows[0][0].value_or("");
  a.table_id = std::stoll(rows[0][1].value_or("0"));
  a.version = std::stoll(rows[0][2].value_or("0"));
  a.mode = rows[0][3].value_or("");
  auto key = json::parse(rows[0][4].value_or("[]"), nullptr, false);
  if (key.is_array()) {
    for (const auto& k : key) {
      if (k.is_string()) a.key.push_back(k);
    }
  }
  return a;
}

// The shape the target must take: the statements that make it so (in the apply transaction),
// and what they change, in words.
struct ShapePlan {
  std::vector<std::string> statements, changes;
  bool exists = false;
};

ShapePlan PlanShape(Warehouse& wh, const Target& target, const std::vector<Column>& columns,
                    LoadMode mode, const std::vector<std::string>& key,
                    const std::optional<Applied>& last, const std::string& table) {
  ShapePlan plan;
  auto existing = wh.Columns(target);
  if (!existing) {
    std::vector<std::string> defs;
    for (const auto& c : columns) defs.push_back(Quote(c.name) + " " + c.type);
    plan.statements.push_back(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", Quote(target.schema)));
    plan.statements.push_back(fmt::format("CREATE TABLE {} ({}){}", target.sql(), Join(defs, ", "),
                                          wh.CreateOptions(mode)));
    plan.changes.push_back("created");
  } else {
    plan.exists = true;
    std::map<std::string, std::string> have;
    for (const auto& c : *existing) have[c.name] = c.type;
    for (const auto& c : columns) {
      auto it = have.find(c.name);
      if (it == have.end()) {
        plan.statements.push_back(
            fmt::format("ALTER TABLE {} ADD COLUMN {} {}", target.sql(), Quote(c.name), c.type));
        plan.changes.push_back(fmt::format("added column {} {}", c.name, c.type));
      } else if (it->second == c.type || wh.Widens(c.type, it->second)) {
        // the same, or the warehouse's column already holds every value
      } else if (wh.Widens(it->second, c.type)) {
        plan.statements.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}",
                                              target.sql(), Quote(c.name), c.type));
        plan.changes.push_back(
            fmt::format("widened column {} from {} to {}", c.name, it->second, c.type));
      } else {
        FailWithCode(ErrorKind::kInput, "load.schema_change",
                     "column {} is {} in {} but {} in {}, and {} cannot hold every value of {} "
                     "without loss: change the column in the warehouse yourself (ALTER TABLE), "
                     "or load into a new table with --to; nothing was loaded",
                     c.name, it->second, target.str(), c.type, table, it->second, c.type);
      }
    }
    std::set<std::string> incoming;
    for (const auto& c : columns) incoming.insert(c.name);
    for (const auto& k : key) {
      if (have.count(k) && !incoming.count(k)) {
        FailWithCode(ErrorKind::kInput, "load.schema_change",
                     "key column {} of {} is no longer a column of {}: nothing was loaded", k,
                     target.str(), table);
      }
    }
  }
  if (mode == LoadMode::kMerge) {
    // A dropped target starts over: its ledger rows describe rows no longer there.
    if (plan.exists && last && last->mode == "merge" && last->key != key) {
      FailWithCode(ErrorKind::kInput, "load.key_change",
                   "{} was merged on ({}) and this load merges on ({}): rows would match on "
                   "another key. Keep the key, or drop the table in the warehouse (or load into "
                   "a new one with --to) to start over; nothing was loaded",
                   target.str(), Join(last->key, ", "), Join(key, ", "));
    }
    if (auto index = wh.KeyIndex(target, KeyIndexName(target), key); !index.empty()) {
      plan.statements.push_back(index);
    }
  }
  return plan;
}

// Merge input must hold each key once and no NULL in it.
void CheckKeys(Warehouse& wh, const std::string& stage, const std::vector<std::string>& key,
               const std::string& table, int64_t version) {
  if (int64_t null_rows = NullKeyRows(wh, Quote(stage), key); null_rows > 0) {
    FailWithCode(ErrorKind::kInput, "load.null_key",
                 "{} row(s) of {} version {} have no value in the key ({}): a merge cannot place "
                 "them. Catch them in the job (a job or model with a merge `destination:` sets "
                 "such rows aside in its quarantine); nothing was loaded",
                 null_rows, table, version, Join(key, ", "));
  }
  if (auto dup = RepeatedStageKey(wh, Quote(stage), stage + "_key", key)) {
    FailWithCode(ErrorKind::kInput, "load.duplicate_key",
                 "key ({}) appears {} times in the rows of {} version {} to merge: a merge needs "
                 "one row per key (dedupe them in the job, e.g. `- dedupe: {{ key: [{}] }}`); "
                 "nothing was loaded",
                 dup->first, dup->second, table, version, Join(key, ", "));
  }
}

}  // namespace

LoadResult Load(transform::Workspace& ws, Warehouse& wh, const LoadRequest& request) {
  project::Destination d = request.destination;  // its key spelled as the columns are
  Target target{d.schema, d.table};
  LoadResult result;
  result.table = request.table.str();
  result.target = target.str();
  result.mode = d.mode.value_or(LoadMode::kAppend);
  result.key = d.key;
  for (const auto& [what, name] :
       {std::pair{"warehouse schema", target.schema}, {"warehouse table", target.table}}) {
    if (auto problem = project::WarehouseNameProblem(what, name); !problem.empty()) {
      FailWithCode(ErrorKind::kUsage, "load.name", "{}", problem);
    }
  }
  if (ToLower(target.schema) == "sluice") {
    FailWithCode(ErrorKind::kUsage, "load.name",
                 "{}: the schema sluice holds Sluice's own tables; load into another schema",
                 target.str());
  }
  auto tb = ws.metastore->GetTable(request.table.db, request.table.name);
  if (!tb) {
    FailWithCode(ErrorKind::kUsage, "usage.unknown_table",
                 "no table {} in the catalog (run the job or model that writes it first)",
                 result.table);
  }
  int64_t version = request.version ? request.version : tb->version;
  auto versions = ws.metastore->TableVersions(tb->id);
  auto kept = [&](int64_t v) {
    return std::any_of(versions.begin(), versions.end(),
                       [&](const meta::TableVersion& tv) { return tv.version == v; });
  };
  if (!kept(version)) {
    FailWithCode(ErrorKind::kUsage, "load.version",
                 "{} has no version {} (versions kept: see `sluice catalog {} --versions`)",
                 result.table, version, result.table);
  }
  result.version = version;
  tb->columns = ws.metastore->TableColumns(tb->id, version);

  // The warehouse's columns, checked before anything is sent.
  std::vector<Column> columns;
  for (const auto& c : tb->columns) {
    if (auto problem = project::WarehouseNameProblem("column name", c.name); !problem.empty()) {
      FailWithCode(ErrorKind::kInput, "load.name", "{} of {}: {}", problem, result.table,
                   "rename it in the job (`- rename: ...`)");
    }
    auto type = wh.TypeFor(c.type);
    if (!type) {
      FailWithCode(ErrorKind::kInput, "load.type",
                   "column {} of {} is {}, which the {} warehouse cannot hold: cast it in the "
                   "job (`- cast: {{ {}: VARCHAR }}`)",
                   c.name, result.table, c.type, wh.kind(), c.name);
    }
    columns.push_back({c.name, *type});
  }
  // Names are case-insensitive in the catalog (DuckDB), as in the job's checks: `ID` is `id`.
  for (auto& k : d.key) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return ToLower(c.name) == ToLower(k); });
    if (it == columns.end()) {
      FailWithCode(ErrorKind::kUsage, "load.key", "key column {} is not a column of {}", k,
                   result.table);
    }
    k = it->name;
  }
  result.key = d.key;

  EnsureLedger(wh);
  auto last = LastApplied(wh, target);
  bool target_exists = wh.Columns(target).has_value();
  bool same_table = last && last->table_id == tb->id && target_exists;
  if (same_table && last->version == version) {
    result.message = fmt::format("{} already holds {} version {}: nothing to load", result.target,
                                 result.table, version);
    return result;
  }
  if (same_table && last->version > version) {
    FailWithCode(ErrorKind::kInput, "load.older_version",
                 "{} already holds {} version {}, newer than version {}: a load never goes "
                 "back (to reload, drop the table in the warehouse or load into another with "
                 "--to)",
                 result.target, result.table, last->version, version);
  }

  // Which files' rows to send.
  auto files = ws.metastore->TableFiles(tb->id, version);
  bool adds_only = same_table && result.mode != LoadMode::kOverwrite && !d.delete_missing;
  if (adds_only) {
    bool previous_known = kept(last->version);
    std::set<std::string> now;
    for (const auto& f : files) now.insert(f.key);
    std::vector<meta::TableFile> added;
    bool superset = previous_known;
    if (previous_known) {
      std::set<std::string> before;
      for (const auto& f : ws.metastore->TableFiles(tb->id, last->version)) before.insert(f.key);
      superset = std::all_of(before.begin(), before.end(),
                             [&](const std::string& k) { return now.count(k) > 0; });
      for (const auto& f : files) {
        if (!before.count(f.key)) added.push_back(f);
      }
    }
    if (superset) {
      files = std::move(added);
      result.incremental = true;
    } else if (result.mode == LoadMode::kAppend) {
      FailWithCode(ErrorKind::kInput, "load.rewritten",
                   "{} version {} {} the files of version {}, which {} holds: appending would "
                   "add its rows again. Load it once with --mode overwrite (or make the "
                   "destination a merge on a key); nothing was loaded",
                   result.table, version,
                   previous_known ? "replaced or removed some of" : "cannot be compared with",
                   last->version, result.target);
    }
  }
  result.files = static_cast<int64_t>(files.size());

  ShapePlan shape = PlanShape(wh, target, columns, result.mode, d.key, last, result.table);

  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  lake::Fetched local = ws.store->Fetch(keys);
  std::string scan = catalog::ScanSql(*tb, files, local);
  std::string stage = "sluice_stage_" + KeyIndexName(target).substr(11);
  // A table this load creates is filled straight from the lake inside the apply transaction (no
  // one sees it before Commit, so no stage is needed: the rows are written once, not twice). A
  // merge still stages, for its key checks.
  const bool direct = !shape.exists && result.mode != LoadMode::kMerge;
  if (!direct) {
    wh.Execute(fmt::format("DROP TABLE IF EXISTS {}", Quote(stage)));  // a failed load's, if any
    result.rows = wh.Stage(stage, columns, scan, tb->columns, request.progress);
    if (result.mode == LoadMode::kMerge) CheckKeys(wh, stage, d.key, result.table, version);
  }
  // No rows to merge, with delete_missing, would empty the target: most likely a run that set
  // every row aside, or a broken input, not a table that truly holds nothing now.
  if (result.mode == LoadMode::kMerge && d.delete_missing && result.rows == 0 && shape.exists) {
    auto held = wh.Query(fmt::format("SELECT 1 FROM {} LIMIT 1", target.sql()));
    if (!held.empty()) {
      FailWithCode(ErrorKind::kInput, "load.empty_source",
                   "{} version {} holds no rows: a merge with delete_missing would delete every "
                   "row of {}; nothing was loaded. To empty it, load with --mode overwrite",
                   result.table, version, result.target);
    }
  }
  // A target not merged on this key before may hold a key twice (appends): a merge would update
  // every copy (DuckDB) or fail to make its unique index (PostgreSQL).
  if (result.mode == LoadMode::kMerge && shape.exists &&
      !(last && last->mode == "merge" && last->key == d.key)) {
    if (auto dup = RepeatedKey(wh, target.sql(), d.key)) {
      FailWithCode(ErrorKind::kInput, "load.duplicate_key",
                   "key ({}) appears {} times in {}, and a merge on ({}) needs one row per key: "
                   "remove the repeated rows in the warehouse, or load into a new table with "
                   "--to; nothing was loaded",
                   dup->first, dup->second, result.target, Join(d.key, ", "));
    }
  }

  auto names = ColumnNames(columns);
  std::string insert_all = fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", target.sql(),
                                       QuotedList(names), QuotedList(names), Quote(stage));
  wh.Begin();
  // Any failure from here on rolls the whole load back.
  struct Rollback {
    Warehouse& wh;
    bool open = true;
    ~Rollback() {
      if (!open) return;
      try {
        wh.Rollback();
      } catch (const Error&) {
        // the session is broken: the server ends the transaction with it
      }
    }
  } rollback{wh};
  wh.Lock(target);
  // Another load may have applied this version while the rows travelled.
  auto now_applied = LastApplied(wh, target);
  if (now_applied && now_applied->table_id == tb->id && now_applied->version >= version &&
      wh.Columns(target)) {
    result.message = fmt::format("{} already holds {} version {}: nothing to load", result.target,
                                 result.table, now_applied->version);
    return result;
  }
  for (const auto& s : shape.statements) wh.Execute(s);
  if (direct) {
    result.rows = wh.Send(target.sql(), scan, tb->columns, request.progress);
    result.inserted = result.rows;
  } else if (result.mode == LoadMode::kAppend) {
    result.inserted = wh.Execute(insert_all);
  } else if (result.mode == LoadMode::kOverwrite) {
    result.deleted = wh.Execute(fmt::format("DELETE FROM {}", target.sql()));
    result.inserted = wh.Execute(insert_all);
  } else {
    auto as = MergeAliases(wh.Columns(target).value_or(columns));
    auto merged = MergeRows(wh, target, Quote(stage), names, d.key, as);
    result.inserted = merged.inserted;
    result.updated = merged.updated;
    if (d.delete_missing) {
      result.deleted = wh.Execute(fmt::format(
          "DELETE FROM {} AS {} WHERE NOT EXISTS (SELECT 1 FROM {} AS {} WHERE {})", target.sql(),
          as.target, Quote(stage), as.stage, KeyMatch(d.key, as.stage, as.target)));
    }
  }
  // The ledger may hold this version from before: of a target since dropped, or loaded before
  // another table's load into the same target. This load is the one that counts now.
  wh.Execute(fmt::format("DELETE FROM {} WHERE target = {} AND table_id = {} AND version = {}",
                         kLedger, Literal(result.target), tb->id, version));
  wh.Execute(fmt::format(
      "INSERT INTO {} (target, catalog_table, table_id, version, mode, key_columns, files, "
      "row_count, inserted, updated, deleted) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
      kLedger, Literal(result.target), Literal(result.table), tb->id, version,
      Literal(project::ToString(result.mode)), Literal(json(d.key).dump()), result.files,
      result.rows, result.inserted, result.updated, result.deleted));
  rollback.open = false;
  wh.Commit();
  if (!direct) wh.Execute(fmt::format("DROP TABLE IF EXISTS {}", Quote(stage)));
  result.applied = true;
  result.changes = shape.changes;
  result.message = fmt::format(
      "loaded {} version {} into {} ({}{}): {} row{} sent, {} inserted, {} updated, {} deleted",
      result.table, version, result.target, project::ToString(result.mode),
      result.incremental
          ? fmt::format(", {} new file{}", result.files, result.files == 1 ? "" : "s")
          : "",
      HumanCount(result.rows), result.rows == 1 ? "" : "s", HumanCount(result.inserted),
      HumanCount(result.updated), HumanCount(result.deleted));
  return result;
}

namespace {
// The table a job or model writes and its declared destination; nullopt without one.
std::optional<std::pair<project::TableName, project::Destination>> DeclaredFor(
    const project::Project& project, const std::string& kind, const std::string& name) {
  if (kind == "job") {
    if (auto it = project.jobs.find(name);
        it != project.jobs.end() && it->second.output.destination) {
      return std::pair{it->second.output.table, *it->second.output.destination};
    }
  } else if (auto t = project::TableName::Parse(name)) {
    if (auto it = project.models.find(*t); it != project.models.end() && it->second.destination) {
      return std::pair{*t, *it->second.destination};
    }
  }
  return std::nullopt;
}
}  // namespace

bool HasDestination(const project::Project& project, const std::string& kind,
                    const std::string& name) {
  return DeclaredFor(project, kind, name).has_value();
}

std::optional<LoadResult> LoadDestination(transform::Workspace& ws, const std::string& kind,
                                          const std::string& name,
                                          const std::function<void(int64_t rows)>& progress) {
  auto declared = DeclaredFor(ws.project, kind, name);
  if (!declared) return std::nullopt;
  LoadRequest request;
  request.table = declared->first;
  request.destination = project::ResolveDestination(ws.project, declared->first, declared->second);
  request.progress = progress;
  auto wh = Open(ws.project.env);
  return Load(ws, *wh, request);
}

}  // namespace sluice::warehouse
