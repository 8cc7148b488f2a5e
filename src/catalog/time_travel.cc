#include "catalog/time_travel.h"

#include <fmt/format.h>

#include <map>
#include <regex>

#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "engine/engine.h"
#include "engine/sql_shape.h"

namespace sluice::catalog {

namespace {

using nlohmann::json;

constexpr const char* kSchema = "_sluice_at";

// `object[key]` when it is text, else "" (a syntax tree's "type" may also be an object).
std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

[[noreturn]] void Refuse(const std::string& what) {
  FailWithCode(ErrorKind::kInput, "query.unknown_version", "{}", what);
}

// The version of `table` an AT clause names.
int64_t VersionAt(engine::Connection& conn, meta::CatalogStore& catalog, const meta::Table& table,
                  const json& at) {
  const std::string unit = ToUpper(Text(at, "unit"));
  const json& expr = at.contains("expr") ? at["expr"] : json();
  bool constant = expr.is_object() && Text(expr, "class") == "CONSTANT" && expr.contains("value") &&
                  expr["value"].is_object() && expr["value"].contains("is_null") &&
                  expr["value"]["is_null"] == false;
  auto versions = catalog.TableVersions(table.id);
  const std::string name = table.full_name();
  if (unit == "VERSION") {
    const json& v = constant ? expr["value"]["value"] : json();
    if (!v.is_number_integer()) {
      Refuse(fmt::format("{} AT (VERSION => ...) takes a version number, such as 3", name));
    }
    int64_t version = v.get<int64_t>();
    if (version < 1 || version > table.version) {
      Refuse(fmt::format("{} has no version {}: its versions run from 1 to {}", name, version,
                         table.version));
    }
    if (!versions.empty() && version < versions.front().version) {
      Refuse(fmt::format(
          "version {} of {} was removed by `sluice vacuum`; the oldest version kept is {}", version,
          name, versions.front().version));
    }
    return version;
  }
  if (unit == "TIMESTAMP") {
    const json& v = constant ? expr["value"]["value"] : json();
    int64_t at_ms = 0;
    try {
      if (!v.is_string()) throw Error(ErrorKind::kInput, "not text");
      at_ms =
          conn.Query("SELECT epoch_ms(CAST(" + SqlString(v.get<std::string>()) + " AS TIMESTAMP))")
              .GetInt(0, 0);
    } catch (const Error&) {
      Refuse(fmt::format(
          "{} AT (TIMESTAMP => ...) takes a time as text, such as '2026-01-05 10:00' (UTC)", name));
    }
    int64_t version = 0;
    for (const auto& tv : versions) {
      if (tv.created_ms <= at_ms) version = tv.version;
    }
    if (version == 0) {
      if (!versions.empty() && versions.front().version > 1 && table.created_ms <= at_ms) {
        Refuse(fmt::format(
            "the version of {} current at {} was removed by `sluice vacuum`; the oldest version "
            "kept is {}, from {}",
            name, v.get<std::string>(), versions.front().version,
            Rfc3339(versions.front().created_ms)));
      }
      Refuse(fmt::format("{} did not exist yet at {} (UTC); its first version is from {}", name,
                         v.get<std::string>(),
                         versions.empty() ? "later" : Rfc3339(versions.front().created_ms)));
    }
    return version;
  }
  Refuse(fmt::format("{} AT ({} => ...): only VERSION and TIMESTAMP are known", name, unit));
}

// Rewrites every table reference of `tree` that has an AT clause, adding the views it needs.
void Rewrite(json& tree, engine::Connection& conn, meta::CatalogStore& catalog,
             std::map<std::string, TableListing>& views) {
  if (tree.is_array()) {
    for (auto& item : tree) Rewrite(item, conn, catalog, views);
    return;
  }
  if (!tree.is_object()) return;
  if (Text(tree, "type") == "BASE_TABLE" && tree.contains("at_clause") &&
      tree["at_clause"].is_object()) {
    std::string db = ToLower(Text(tree, "schema_name"));
    std::string name = ToLower(Text(tree, "table_name"));
    if (db.empty()) {
      Refuse(
          fmt::format("name the table with its database (such as silver.{}) to read it AT a "
                      "version",
                      name));
    }
    auto table = catalog.GetTable(db, name);
    if (!table) Refuse(fmt::format("{}.{} is not in the catalog", db, name));
    int64_t version = VersionAt(conn, catalog, *table, tree["at_clause"]);
    std::string view = fmt::format("{}__{}__v{}", db, name, version);
    if (!views.count(view)) {
      TableListing listing{*table, catalog.TableFiles(table->id, version, false)};
      listing.table.columns = catalog.TableColumns(table->id, version);
      listing.table.db = kSchema;
      listing.table.name = view;
      views.emplace(view, std::move(listing));
    }
    // The reference keeps its alias; without one, columns stay qualified by the table's name.
    if (Text(tree, "alias").empty()) tree["alias"] = name;
    tree["schema_name"] = kSchema;
    tree["table_name"] = view;
    tree["catalog_name"] = "";
    tree["at_clause"] = nullptr;
    return;
  }
  for (auto& [key, value] : tree.items()) Rewrite(value, conn, catalog, views);
}

}  // namespace

TimeTravel ResolveTimeTravel(meta::CatalogStore& catalog, const std::string& sql) {
  TimeTravel out{sql, {}};
  // Most statements have no AT clause: they are not parsed twice.
  static const std::regex at(R"(\bat\s*\()", std::regex::icase);
  if (!std::regex_search(sql, at)) return out;
  engine::Database db;
  engine::Connection conn(db);
  auto parsed = engine::ParseSql(conn, sql);
  if (parsed.select.is_null()) return out;  // the caller refuses what is not one SELECT
  std::map<std::string, TableListing> views;
  json tree = parsed.select;
  Rewrite(tree, conn, catalog, views);
  if (views.empty()) return out;
  json whole = {{"error", false}, {"statements", json::array({tree})}};
  out.sql =
      conn.Query("SELECT json_deserialize_sql(" + SqlString(whole.dump()) + "::JSON)").GetOr(0, 0);
  for (auto& [name, listing] : views) out.tables.push_back(std::move(listing));
  return out;
}

}  // namespace sluice::catalog
