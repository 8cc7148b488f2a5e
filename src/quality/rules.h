#pragma once
// Data quality rules, written as in Glue's DQDL. This release understands:
//   IsComplete "col"                      every row has a value
//   IsUnique "col"                        no value appears twice
//   RowCount <op> N                       op: = != > >= < <=, or `between A and B`
//   ColumnValues "col" between A and B    values in a range (NULLs are IsComplete's business)
//   ColumnValues "col" in [v1, v2, ...]   values in a set
//   ColumnValues "col" <op> V
// Row-level rules (IsComplete, IsUnique, ColumnValues) can quarantine the rows that break them.
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "meta/metastore.h"

namespace sluice::quality {

struct Rule {
  std::string text;  // as written
  std::string type;  // IsComplete | IsUnique | RowCount | ColumnValues
  std::string column;
  std::string op;                   // = != > >= < <= between in
  std::vector<std::string> values;  // SQL literals: one for comparisons, two for between, n for in
  std::string on_fail = "fail";     // fail | warn | quarantine

  bool row_level() const { return type != "RowCount"; }
  // Whether PassSql() is a window expression (it then belongs in QUALIFY, not WHERE).
  bool windowed() const { return type == "IsUnique"; }
  // SQL that is true for a row that passes (row-level rules only). NULL counts as passing for
  // ColumnValues and IsUnique. IsUnique's is a window expression.
  std::string PassSql() const;
  // A short reason for a quarantined row, e.g. `IsComplete "country"`.
  const std::string& reason() const { return text; }
};

struct ParseError {
  size_t offset;  // into the rule text
  std::string message;
};

// Parses one rule; on failure returns nullopt and fills `error`.
std::optional<Rule> Parse(const std::string& text, ParseError& error);

// Evaluates `rules` over `relation` (a table or view name, or a parenthesized query) with one
// aggregate query, and returns one result per rule, in order.
std::vector<meta::CheckResult> Evaluate(engine::Connection& conn, const std::string& relation,
                                        const std::string& table_name,
                                        const std::vector<Rule>& rules);

}  // namespace sluice::quality
