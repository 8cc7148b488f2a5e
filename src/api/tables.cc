#include "api/tables.h"

#include <algorithm>
#include <map>

#include "catalog/pii_tags.h"
#include "common/time.h"

namespace sluice::api {

using nlohmann::json;

namespace {
std::string TimeText(int64_t ms) { return ms ? Rfc3339(ms) : ""; }
}  // namespace

json TableListJson(meta::Metastore& m) {
  json out = json::array();
  for (const auto& tb : m.ListTables()) {
    out.push_back({{"table", tb.full_name()},
                   {"kind", tb.kind},
                   {"format", tb.format},
                   {"version", tb.version},
                   {"files", m.TableFiles(tb.id, tb.version, false).size()},
                   {"columns", m.TableColumns(tb.id, tb.version).size()},
                   {"updated_at", TimeText(tb.updated_ms)}});
  }
  return out;
}

json TableJson(meta::Metastore& m, const meta::Table& tb, const std::string& location) {
  auto files = m.TableFiles(tb.id, tb.version, true);
  std::map<std::string, std::pair<int64_t, uint64_t>> partitions;
  json quarantined = json::array();
  uint64_t bytes = 0;
  for (const auto& f : files) {
    if (f.status != meta::FileStatus::kActive) {
      quarantined.push_back(
          {{"file", f.key}, {"reason", f.reason}, {"state", meta::ToString(f.status)}});
      continue;
    }
    bytes += f.size;
    if (!f.partition.empty()) {
      partitions[f.partition].first++;
      partitions[f.partition].second += f.size;
    }
  }
  auto tags = m.ColumnTags(tb.id);
  json cols = json::array(), parts = json::array(), vers = json::array();
  for (const auto& c : tb.columns) {
    auto it = tags.find(c.name);
    std::string tag = it == tags.end() ? std::string("[]") : it->second;
    json detail = json::parse(tag, nullptr, false);
    std::string masked = catalog::MaskedBy(tag);
    cols.push_back({{"name", c.name},
                    {"masked", masked.empty() ? json(nullptr) : json(masked)},
                    {"type", c.type},
                    {"partition", c.partition},
                    {"pii", catalog::PiiEntities(tag)},
                    {"pii_detail", detail.is_discarded() ? json::array() : detail}});
  }
  for (const auto& [p, v] : partitions) {
    parts.push_back({{"partition", p}, {"files", v.first}, {"bytes", v.second}});
  }
  for (const auto& v : m.TableVersions(tb.id)) {
    vers.push_back({{"version", v.version},
                    {"created_at", TimeText(v.created_ms)},
                    {"run_id", v.run_id},
                    {"change", v.change},
                    {"files", v.files}});
  }
  return {{"table", tb.full_name()},
          {"kind", tb.kind},
          {"format", tb.format},
          {"version", tb.version},
          {"location", location},
          {"files", files.size() - quarantined.size()},
          {"bytes", bytes},
          {"columns", cols},
          {"partitions", parts},
          {"versions", vers},
          {"quarantined_files", quarantined}};
}

json TableVersionsJson(meta::Metastore& m, const meta::Table& tb) {
  json out = json::array();
  std::map<std::string, meta::TableFile> before_files;
  std::vector<meta::Column> before_columns;
  int64_t previous = 0;
  for (const auto& v : m.TableVersions(tb.id)) {
    std::map<std::string, meta::TableFile> files;
    for (auto& f : m.TableFiles(tb.id, v.version)) files.emplace(f.key, std::move(f));
    auto columns = m.TableColumns(tb.id, v.version);
    int64_t added = 0, removed = 0, rows = 0;
    uint64_t bytes = 0;
    bool rows_known = true;
    for (const auto& [key, f] : files) {
      if (!before_files.count(key)) ++added;
      bytes += f.size;
      if (f.rows < 0) rows_known = false;
      rows += f.rows;
    }
    for (const auto& [key, f] : before_files) {
      if (!files.count(key)) ++removed;
    }
    json cols_added = json::array(), cols_removed = json::array(), retyped = json::array();
    auto find = [](const std::vector<meta::Column>& in, const std::string& name) {
      return std::find_if(in.begin(), in.end(),
                          [&](const meta::Column& c) { return c.name == name; });
    };
    for (const auto& c : columns) {
      auto was = find(before_columns, c.name);
      if (was == before_columns.end()) {
        cols_added.push_back({{"name", c.name}, {"type", c.type}});
      } else if (was->type != c.type) {
        retyped.push_back({{"name", c.name}, {"from", was->type}, {"to", c.type}});
      }
    }
    for (const auto& c : before_columns) {
      if (find(columns, c.name) == columns.end()) {
        cols_removed.push_back({{"name", c.name}, {"type", c.type}});
      }
    }
    json one = {{"version", v.version},
                {"created_at", TimeText(v.created_ms)},
                {"run_id", v.run_id},
                {"change", v.change},
                {"files", files.size()},
                {"bytes", bytes},
                {"rows", rows_known ? json(rows) : json(nullptr)},
                {"files_added", added},
                {"files_removed", removed},
                {"columns_added", cols_added},
                {"columns_removed", cols_removed},
                {"columns_retyped", retyped}};
    if (v.version != previous + 1) one["after_vacuum"] = true;
    out.push_back(std::move(one));
    before_files = std::move(files);
    before_columns = std::move(columns);
    previous = v.version;
  }
  return out;
}

}  // namespace sluice::api
