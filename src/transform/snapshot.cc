#include "transform/snapshot.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/strings.h"
#include "transform/set_aside.h"

namespace sluice::transform {
namespace {

constexpr const char* kSource = "_snapshot_source";

// The column of `columns` named `name` in any case, as the source spells it; fails naming
// `what` when there is none.
std::string Column(const project::Model& model, const std::vector<ColumnInfo>& columns,
                   const std::string& name, const std::string& what) {
  for (const auto& c : columns) {
    if (ToLower(c.name) == ToLower(name)) return c.name;
  }
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
               "{}: the {} '{}' is not a column of the model ({})", model.where.file, what, name,
               Join(names, ", "));
}

// Whether `names` holds `name`, in any case.
bool Names(const std::vector<std::string>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return ToLower(n) == ToLower(name); });
}

int64_t Count(engine::Connection& conn, const std::string& sql) {
  auto result = conn.Query(sql);
  return result.GetInt(0, 0);
}

}  // namespace

SnapshotPlan PlanSnapshot(engine::Connection& conn, const project::Model& model,
                          const std::string& source, bool exists, int64_t now_ms) {
  conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", kSource, source));
  auto columns = DataColumns(conn, fmt::format("WITH src AS (SELECT * FROM {})", kSource), "src");
  for (const auto& c : columns) {
    std::string lower = ToLower(c.name);
    if (lower == "valid_from" || lower == "valid_to") {
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "{}: a snapshot adds the column {} itself; the model's SQL returns one",
                   model.where.file, c.name);
    }
  }
  const bool all = model.check_columns.size() == 1 && ToLower(model.check_columns[0]) == "all";
  if (!all) {
    for (const auto& c : model.check_columns) Column(model, columns, c, "check column");
  }
  std::string now = fmt::format("epoch_ms(CAST({} AS BIGINT))", now_ms);
  std::string from = now;
  if (!model.updated_at.empty()) {
    std::string updated = Column(model, columns, model.updated_at, "updated_at column");
    std::string type;
    for (const auto& c : columns) {
      if (c.name == updated) type = ToUpper(c.type);
    }
    if (type != "DATE" && !StartsWith(type, "TIMESTAMP")) {
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "{}: the updated_at column '{}' is {}: it must be a DATE or a TIMESTAMP",
                   model.where.file, updated, type);
    }
    if (int64_t n = Count(conn, fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL", kSource,
                                            SqlIdent(updated)));
        n > 0) {
      FailWithCode(ErrorKind::kInput, "input.null_key",
                   "{}: {} row(s) of this run have no {} (the updated_at column): a snapshot "
                   "cannot place them in time; nothing changed\n  hint: leave them out, or "
                   "coalesce the column, in the model's SQL",
                   model.where.file, n, updated);
    }
    from = fmt::format("CAST(sluice_s.{} AS TIMESTAMP)", SqlIdent(updated));
  }
  std::vector<std::string> match, nulls, texts;
  for (const auto& k : model.unique_key) {
    std::string name = SqlIdent(Column(model, columns, k, "unique_key column"));
    match.push_back(fmt::format("sluice_s.{0} = sluice_c.{0}", name));
    nulls.push_back(name + " IS NULL");
    texts.push_back(fmt::format("CAST({} AS VARCHAR)", name));
  }
  if (int64_t n = Count(
          conn, fmt::format("SELECT count(*) FROM {} WHERE {}", kSource, Join(nulls, " OR ")));
      n > 0) {
    FailWithCode(ErrorKind::kInput, "input.null_key",
                 "{}: {} row(s) of this run have no value in the unique_key ({}); nothing "
                 "changed\n  hint: leave them out in the model's SQL",
                 model.where.file, n, Join(model.unique_key, ", "));
  }
  auto dup = conn.Query(fmt::format(
      "SELECT concat_ws(', ', {}), count(*) FROM {} GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 "
      "LIMIT 1",
      Join(texts, ", "), kSource));
  if (dup.row_count() > 0) {
    FailWithCode(ErrorKind::kInput, "input.duplicate_key",
                 "{}: unique_key ({}) = ({}) appears {} times in the rows of this run: a snapshot "
                 "keeps one current row per key; nothing changed\n  hint: keep one row per key "
                 "in the model's SQL",
                 model.where.file, Join(model.unique_key, ", "), dup.Get(0, 0).value_or("NULL"),
                 dup.GetInt(1, 0));
  }
  SnapshotPlan plan;
  if (!exists) {
    plan.sql = fmt::format(
        "SELECT sluice_s.*, {} AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to FROM {} AS "
        "sluice_s",
        from, kSource);
    plan.opened = Count(conn, fmt::format("SELECT count(*) FROM {}", kSource));
    return plan;
  }
  std::string table = model.table.str();
  std::string differs;
  if (!model.updated_at.empty()) {
    differs = from + " > sluice_c.valid_from";
  } else {
    // The compared columns the table has too: a column new in the source changes no key.
    std::vector<std::string> kept;
    for (const auto& c :
         DataColumns(conn, fmt::format("WITH t AS (SELECT * FROM {})", table), "t")) {
      kept.push_back(c.name);
    }
    std::vector<std::string> compared;
    for (const auto& c : columns) {
      if (!Names(model.unique_key, c.name) && Names(kept, c.name) &&
          (all || Names(model.check_columns, c.name))) {
        compared.push_back(
            fmt::format("sluice_s.{0} IS DISTINCT FROM sluice_c.{0}", SqlIdent(c.name)));
      }
    }
    differs = compared.empty() ? "false" : Join(compared, " OR ");
  }
  std::string ctes = fmt::format(
      "WITH cur AS (SELECT * FROM {0} WHERE valid_to IS NULL), "
      "changed AS (SELECT sluice_s.*, {1} AS sluice_from FROM {2} AS sluice_s JOIN cur AS "
      "sluice_c ON {3} WHERE {4}), "
      "fresh AS (SELECT sluice_s.* FROM {2} AS sluice_s WHERE NOT EXISTS (SELECT 1 FROM cur AS "
      "sluice_c WHERE {3})), "
      "gone AS (SELECT sluice_c.* FROM cur AS sluice_c WHERE {5} AND NOT EXISTS (SELECT 1 FROM "
      "{2} AS sluice_s WHERE {3}))",
      table, from, kSource, Join(match, " AND "), differs,
      model.invalidate_hard_deletes ? "true" : "false");
  auto counts = conn.Query(ctes +
                           " SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM changed), "
                           "(SELECT count(*) FROM gone)");
  plan.opened = counts.GetInt(0, 0);
  plan.changed = counts.GetInt(1, 0);
  plan.ended = counts.GetInt(2, 0);
  // History as it was; current versions, ended where their key changed or went; new versions.
  plan.sql = ctes + fmt::format(
                        " SELECT * FROM {0} WHERE valid_to IS NOT NULL "
                        "UNION ALL BY NAME "
                        "SELECT sluice_c.* EXCLUDE (valid_to), CASE WHEN EXISTS (SELECT 1 FROM "
                        "gone AS sluice_s WHERE {1}) THEN {2} ELSE (SELECT sluice_s.sluice_from "
                        "FROM changed AS sluice_s WHERE {1}) END AS valid_to FROM cur AS sluice_c "
                        "UNION ALL BY NAME "
                        "SELECT * EXCLUDE (sluice_from), sluice_from AS valid_from, CAST(NULL AS "
                        "TIMESTAMP) AS valid_to FROM changed "
                        "UNION ALL BY NAME "
                        "SELECT sluice_s.*, {3} AS valid_from, CAST(NULL AS TIMESTAMP) AS "
                        "valid_to FROM fresh AS sluice_s",
                        table, Join(match, " AND "), now, from);
  return plan;
}

}  // namespace sluice::transform
