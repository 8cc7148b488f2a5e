#include "catalog/pii_tags.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/csv_text.h"
#include "common/strings.h"

namespace sluice::catalog {

using nlohmann::json;

std::map<std::string, std::vector<quality::EntityMatch>> TagPii(
    engine::Connection& conn, meta::CatalogStore& metastore, const lake::Store& store,
    const meta::Table& table, const std::vector<quality::CustomEntity>& custom,
    size_t sample_rows) {
  std::map<std::string, std::vector<quality::EntityMatch>> found;
  auto columns = metastore.TableColumns(table.id, table.version);
  auto files = metastore.TableFiles(table.id, table.version, false);
  if (files.empty()) return found;
  std::vector<std::string> picked;
  std::vector<const meta::Column*> cols;
  for (const auto& c : columns) {
    std::string type = ToUpper(c.type);
    if (c.partition) continue;
    if (type != "VARCHAR" && type != "DATE" && type.rfind("TIMESTAMP", 0) != 0 &&
        type != "BIGINT" && type != "INTEGER") {
      continue;
    }
    picked.push_back(fmt::format("CAST({} AS VARCHAR)", SqlIdent(c.name)));
    cols.push_back(&c);
  }
  if (picked.empty()) return found;
  meta::Table t = table;
  t.columns = columns;
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  lake::Fetched local;
  FetchForReading(store, t, keys, local);
  auto sample = conn.Query(fmt::format("SELECT {} FROM {} USING SAMPLE {} ROWS", Join(picked, ", "),
                                       ScanSql(t, files, local), sample_rows));
  std::map<std::string, std::string> tags;
  for (size_t i = 0; i < cols.size(); ++i) {
    std::vector<std::string> values;
    for (size_t r = 0; r < sample.row_count(); ++r) {
      if (auto v = sample.Get(i, r)) values.push_back(*v);
    }
    auto matches = quality::DetectEntities(cols[i]->name, cols[i]->type, values, custom);
    json arr = json::array();
    for (const auto& m : matches) {
      arr.push_back({{"entity", m.entity}, {"confidence", std::round(m.confidence * 100) / 100}});
    }
    tags[cols[i]->name] = arr.dump();
    if (!matches.empty()) found[cols[i]->name] = matches;
  }
  metastore.SetColumnTags(table.id, tags);
  return found;
}

std::vector<std::string> PiiEntities(const std::string& tags_json) {
  std::vector<std::string> out;
  json arr = json::parse(tags_json.empty() ? "[]" : tags_json, nullptr, false);
  if (!arr.is_array()) return out;
  for (const auto& t : arr) {
    if (!t.is_object() || !t.contains("entity")) continue;
    std::string entity = t["entity"].get<std::string>();
    if (!entity.empty()) out.push_back(entity);
  }
  return out;
}

std::string MaskedBy(const std::string& tags_json) {
  json arr = json::parse(tags_json.empty() ? "[]" : tags_json, nullptr, false);
  if (!arr.is_array()) return "";
  for (const auto& t : arr) {
    if (t.is_object() && t.contains("masked")) return t.value("masked", "");
  }
  return "";
}

}  // namespace sluice::catalog
