#include "transform/set_aside.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"

namespace sluice::transform {

std::vector<ColumnInfo> DataColumns(engine::Connection& conn, const std::string& ctes,
                                    const std::string& last) {
  auto r = engine::Unquoted(
      [&] { return conn.Query(fmt::format("DESCRIBE {} SELECT * FROM {}", ctes, last)); });
  std::vector<ColumnInfo> out;
  for (size_t i = 0; i < r.row_count(); ++i) {
    std::string name = r.GetOr(0, i);
    if (!StartsWith(name, "_sluice_")) out.push_back({name, r.GetOr(1, i)});
  }
  return out;
}

std::string PendingMasks::Shown(const std::string& name, const std::string& column) const {
  if (withhold) return "'[withheld]'";
  auto mask = columns.find(ToLower(name));
  return mask == columns.end() ? fmt::format("CAST({} AS VARCHAR)", column)
                               : MaskSql(column, mask->second);
}

std::string RowJson(const std::vector<ColumnInfo>& columns, const PendingMasks& masks) {
  // A JSON text, not NULL: a set-aside row without one is a dropped row (engine::RowCapture).
  if (masks.withhold) return "'\"[withheld]\"'";
  std::vector<std::string> fields;
  for (const auto& c : columns) {
    auto mask = masks.columns.find(ToLower(c.name));
    fields.push_back(fmt::format(
        "{} := {}", SqlIdent(c.name),
        mask == masks.columns.end() ? SqlIdent(c.name) : MaskSql(SqlIdent(c.name), mask->second)));
  }
  return fmt::format("to_json(struct_pack({}))::VARCHAR", Join(fields, ", "));
}

std::string KeepOrSetAside(const std::string& keep, const std::string& reason,
                           const std::string& raw) {
  return fmt::format("CASE WHEN {} THEN true ELSE {}(_sluice_file, {}, {}) END", keep, kSetAside,
                     reason, raw);
}

std::string MaskSql(const std::string& column, const project::MaskSpec& spec) {
  std::string text = fmt::format("CAST({} AS VARCHAR)", column), expr;
  if (spec.method == "hash") {
    const char* salt = std::getenv("SLUICE_MASK_SALT");
    if (salt) RegisterSecret(salt);
    expr = fmt::format("sha256({} || {})", SqlString(salt ? salt : ""), text);
  } else if (spec.method == "redact") {
    expr = "'[REDACTED]'";
  } else if (spec.method == "tokenize") {
    expr = fmt::format("{}({})", kToken, text);
  } else {
    // A value no longer than what would be kept is masked whole.
    int keep = spec.keep + spec.keep_left;
    expr = fmt::format(
        "CASE WHEN length({0}) <= {1} THEN repeat('*', length({0})) "
        "ELSE left({0}, {2}) || repeat('*', length({0}) - {1}) || right({0}, {3}) END",
        text, keep, spec.keep_left, spec.keep);
  }
  return fmt::format("CASE WHEN {} IS NULL THEN NULL ELSE {} END", column, expr);
}

std::string CheckReason(const quality::Rule& rule) { return "check: " + rule.text; }

std::string ChecksSql(const std::vector<quality::Rule>& rules, const std::string& prev,
                      const std::vector<ColumnInfo>& columns, const PendingMasks& masks) {
  std::vector<std::string> reasons, passes;
  bool windowed = false;
  for (const auto& r : rules) {
    if (r.on_fail != "quarantine") continue;
    windowed = windowed || r.windowed();
    std::string pass = r.PassSql();
    passes.push_back("(" + pass + ")");
    reasons.push_back(
        fmt::format("CASE WHEN NOT ({}) THEN {} END", pass, SqlString(CheckReason(r))));
  }
  if (passes.empty()) return "";
  return fmt::format(
      "SELECT * FROM {} {} {}", prev, windowed ? "QUALIFY" : "WHERE",
      KeepOrSetAside(Join(passes, " AND "), "concat_ws('; ', " + Join(reasons, ", ") + ")",
                     RowJson(columns, masks)));
}

namespace {

// `column` as a DQDL string.
std::string DqdlString(const std::string& column) {
  std::string quoted = "\"";
  for (char c : column) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

quality::Rule ParsedRule(const std::string& text) {
  quality::ParseError error;
  auto rule = quality::Parse(text, error);
  if (!rule) {
    FailWithCode(ErrorKind::kInternal, "internal", "the check '{}' does not parse: {}", text,
                 error.message);
  }
  return std::move(*rule);
}

}  // namespace

void AddUniqueKeyCheck(const project::Model& model, std::vector<quality::Rule>& rules) {
  if (!model.incremental || model.unique_key.empty()) return;
  std::vector<std::string> columns;
  for (const auto& k : model.unique_key) columns.push_back(DqdlString(k));
  auto rule = ParsedRule(
      fmt::format("IsPrimaryKey {} # the unique_key of the incremental model", Join(columns, " ")));
  rule.on_fail = "fail";
  rules.push_back(std::move(rule));
}

void AddDestinationKeyChecks(const project::Project& project, const project::TableName& table,
                             std::vector<quality::Rule>& rules) {
  for (const auto& column : project::DestinationMergeKey(project, table)) {
    auto rule = ParsedRule(
        fmt::format("IsComplete {} # the merge key of the destination", DqdlString(column)));
    bool checked = std::any_of(rules.begin(), rules.end(), [&](const quality::Rule& r) {
      return r.type == rule.type && r.args == rule.args && r.where.empty() && !r.condition &&
             r.on_fail != "warn";
    });
    if (checked) continue;
    rule.on_fail = "quarantine";
    rules.push_back(std::move(rule));
  }
}

}  // namespace sluice::transform
