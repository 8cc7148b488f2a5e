#include "quality/check_specs.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::quality {

namespace {
bool CarriesSql(const Rule& rule) {
  return rule.type == "CustomSql" || !rule.where.empty() ||
         std::any_of(rule.parts.begin(), rule.parts.end(), CarriesSql);
}
}  // namespace

std::vector<Rule> ParseCheckSpecs(const std::vector<project::CheckSpec>& checks,
                                  project::Diagnostics& diagnostics) {
  std::vector<Rule> rules;
  // DuckDB's parser judges the SQL rules carry; a database is opened only when one does, and
  // closed before loading ends. Which tables exist is known only when the rule runs (Evaluate
  // checks that too): here any db.table name passes.
  std::optional<engine::Database> parser_db;
  std::optional<engine::Connection> parser;
  auto qualified = [](const std::string& schema, const std::string& name) {
    return IsPlainName(schema) && IsPlainName(name);
  };
  for (const auto& check : checks) {
    ParseError error;
    const std::string& text = check.file.empty() ? check.rule : check.file_text;
    project::Location at = check.where;
    if (check.file_problem) {
      const auto& p = *check.file_problem;
      diagnostics.Add(p.where, p.message, p.hint, p.code);
      continue;
    }
    auto parsed = ParseRuleSet(text, error);
    if (!parsed) {
      if (!check.file.empty()) {
        auto [line, column] = LineColumn(text, error.offset);
        diagnostics.Add({check.file, line, column}, error.message, "", "dqdl.syntax");
      } else {
        diagnostics.Add(at,
                        fmt::format("in rule '{}' at character {}: {}", check.rule,
                                    error.offset + 1, error.message),
                        "", "dqdl.syntax");
      }
      continue;
    }
    for (auto& rule : *parsed) {
      rule.on_fail = check.on_fail;
      if (CarriesSql(rule)) {
        if (!parser) parser.emplace(parser_db.emplace("", 1));
        std::string refused = RefusedSql(*parser, rule, qualified);
        if (!refused.empty()) {
          diagnostics.Add(at, fmt::format("{}: {}", rule.text, refused), "", "dqdl.sql_refused");
          continue;
        }
      }
      if (rule.on_fail == "quarantine" && !rule.row_level()) {
        diagnostics.Add(
            at, fmt::format("{} judges the whole table, so it cannot quarantine rows", rule.text),
            "use on_fail: fail or on_fail: warn", "dqdl.cannot_quarantine");
        continue;
      }
      if (rule.on_fail == "quarantine" && rule.dynamic()) {
        diagnostics.Add(at,
                        fmt::format("{} has a dynamic threshold, so it cannot quarantine rows: "
                                    "history judges a whole run, not a row",
                                    rule.text),
                        "use on_fail: fail or on_fail: warn, or a fixed threshold",
                        "dqdl.cannot_quarantine");
        continue;
      }
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

}  // namespace sluice::quality
