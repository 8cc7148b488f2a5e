#pragma once
// Data quality rules in Glue's DQDL: single rules, `Rules = [ ... ]` rule sets, `and`/`or`
// composites, `where "predicate"` filters, `with threshold <op> x` for row-level rules, and
// dynamic thresholds over a rule's own history (`RowCount > avg(last(10)) * 0.8`).
//
// Rule types:
//   RowCount, ColumnCount                                   table figures
//   ColumnExists "c", ColumnDataType "c" = "INTEGER",
//   ColumnNamesMatchPattern "regex", SchemaMatch "db.t" = 1.0 schema
//   IsComplete "c", Completeness "c" > 0.95                 nulls
//   IsUnique "c", Uniqueness "c" > 0.9, UniqueValueRatio,
//   IsPrimaryKey "c" ["c2" ...], DistinctValuesCount         uniqueness
//   ColumnValues "c" (comparison | between | in [...] | matches "regex"), ColumnLength "c" ...,
//   DataFreshness "c" <= 24 hours                            row-level
//   Mean, Sum, StandardDeviation, Entropy "c" <cond>, ColumnCorrelation "a" "b" <cond>
//   CustomSql "SELECT ... FROM primary" <cond>
//   ReferentialIntegrity "c" "db.t.c" <cond>, RowCountMatch "db.t" <cond>,
//   AggregateMatch "sum(c)" "sum(db.t.c)" <cond>, DatasetMatch "db.t" "k1->k2" <cond>
//
// All rules on one table are compiled together: every figure they judge by is one expression of
// one aggregate query over the table (row-level rules count the rows that break them in the same
// pass); rules that need a grouping (Entropy, Uniqueness) or another table add a subquery.
// Row-level rules (IsComplete, IsUnique, ColumnValues, ColumnLength, DataFreshness, and
// composites of them) can also quarantine the rows that break them. NULL values pass
// ColumnValues, ColumnLength and DataFreshness: completeness is IsComplete's business.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/sql_shape.h"
#include "meta/metastore.h"

namespace sluice::quality {

// A comparison: `> 10`, `between 1 and 5`, `in ["a", "b"]`, `not in [...]`, `matches "re"`,
// `= "INTEGER"`. Operands are SQL expressions (numbers, strings, now() +/- durations,
// arithmetic, and history functions such as avg(last(10))).
struct Condition {
  std::string op;  // = != > >= < <= between in notin matches
  struct Operand {
    std::string sql;         // as SQL, with history placeholders resolved at evaluation
    std::string history_fn;  // avg|min|max|sum|stddev of the rule's last N values ("": none)
    int history_n = 0;
    std::string rest_sql;  // applied to the history value, e.g. " * 0.8"
  };
  std::vector<Operand> operands;
  std::string text;  // as written
  bool dynamic() const;
};

struct Rule {
  std::string text;               // as written
  std::string type;               // a rule type, or "and" / "or" for composites
  std::vector<std::string> args;  // quoted arguments: columns, tables, SQL, regexes
  std::optional<Condition> condition;
  std::string where;                   // SQL predicate ("" for none)
  std::optional<Condition> threshold;  // with threshold ...
  std::vector<Rule> parts;             // composites
  std::string on_fail = "fail";        // fail | warn | quarantine

  bool row_level() const;
  // Whether its condition or threshold reads the rule's history (avg(last(10)), ...).
  bool dynamic() const;
  // Whether PassSql() is a window expression (it then belongs in QUALIFY, not WHERE).
  bool windowed() const;
  // SQL that is true for a row that passes (row-level rules only).
  std::string PassSql() const;
  const std::string& reason() const { return text; }
};

struct ParseError {
  size_t offset = 0;  // into the text
  std::string message;
};

// The rule types, for hints and documentation.
const std::vector<std::string>& RuleTypes();

// Parses one rule; on failure returns nullopt and fills `error`.
std::optional<Rule> Parse(const std::string& text, ParseError& error);

// Parses a rule set: `Rules = [ rule, rule, ... ]` (with # comments), or a single rule.
std::optional<std::vector<Rule>> ParseRuleSet(const std::string& text, ParseError& error);

// 1-based line and column of `offset` in `text`.
std::pair<int, int> LineColumn(const std::string& text, size_t offset);

// A rule's earlier numeric results, newest first (at most n).
using History = std::function<std::vector<double>(const std::string& rule, size_t n)>;

// What the footers of a table's files (Parquet statistics) say of one column over all its rows.
// A field is set only when every file says it.
struct ColumnFacts {
  std::optional<int64_t> nulls;         // how many values are NULL
  std::optional<std::string> min, max;  // the least and greatest value, as SQL of the column's type
};
using TableFacts = std::map<std::string, ColumnFacts>;  // by column name

// Evaluates `rules` over `relation` (a table or view name, or a parenthesized query) in one
// pass, returning one result per rule in order: outcome pass | fail | error, the observed
// value, and for row-level rules the failing rows. Reference tables in rules are catalog names
// attached on `conn`. `facts` (of the rows `relation` reads, nothing else) settle some rules
// without reading the column: IsComplete and Completeness by NULL counts, a ColumnValues
// comparison or range that the least and greatest value both pass (no row can break it).
std::vector<meta::CheckResult> Evaluate(engine::Connection& conn, const std::string& relation,
                                        const std::string& table_name,
                                        const std::vector<Rule>& rules,
                                        const History& history = nullptr,
                                        const TableFacts& facts = {});

// Judges a run's rules where the quarantining ones set things aside as the run goes (rows of a
// batch, files of a crawl): rules with on_fail fail or warn are evaluated over `relation` (none
// when it is "": nothing is left to judge), then each quarantining rule gets the result
// `set_aside` gives it.
std::vector<meta::CheckResult> Judge(
    engine::Connection& conn, const std::string& relation, const std::string& table_name,
    const std::vector<Rule>& rules, const History& history,
    const std::function<meta::CheckResult(const Rule&)>& set_aside);

// Why the SQL a rule carries may not run, or "" when it may (parts of composites included):
// a CustomSql statement must be exactly one SELECT and a `where` filter exactly one expression,
// by DuckDB's parser on `conn`; neither may call table functions (read_csv(...), ...), DESCRIBE,
// or name a relation other than `primary`, its own WITH names and those `known` accepts.
// Evaluate refuses such a rule (outcome error with this text); project loading refuses it too.
std::string RefusedSql(engine::Connection& conn, const Rule& rule,
                       const engine::KnownRelation& known);

// `failing_rows` as every JSON output shows it (CLI --format json, the HTTP API, workflow step
// outputs and events): null when the rule has no row-level notion (RowCount, ColumnCount, a
// composite And/Or) or could not be evaluated; otherwise the number of rows breaking it, 0
// when none does.
nlohmann::json FailingRowsJson(const meta::CheckResult& result);

// A rule with on_fail: fail that did not pass (failed, or could not be evaluated).
bool Failed(const meta::CheckResult& result);

// Throws sluice::Error(kQuality) "<what>: N check(s) failed, nothing was published: ..." naming
// each Failed() rule.
void RequirePassing(const std::vector<meta::CheckResult>& results, const std::string& what);

}  // namespace sluice::quality
