#include "quality/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "common/time.h"

namespace sluice::quality {

namespace {

constexpr int kTopValues = 5;
constexpr int kValueSet = 10;  // at most this many distinct values go into `values`

enum class Kind { kNumeric, kString, kNested, kOther };

Kind KindOf(const std::string& type) {
  static const std::set<std::string> kNumeric = {"TINYINT", "SMALLINT", "INTEGER",   "BIGINT",
                                                 "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                                                 "UBIGINT", "UHUGEINT", "FLOAT",     "DOUBLE"};
  if (kNumeric.count(type) || StartsWith(type, "DECIMAL")) return Kind::kNumeric;
  if (StartsWith(type, "VARCHAR") || StartsWith(type, "ENUM(")) return Kind::kString;
  // Lists, arrays, structs, maps and unions: no min/max (their order means little), but they
  // still get counts, distinct counts and top values.
  if (type.find('[') != std::string::npos || StartsWith(type, "STRUCT(") ||
      StartsWith(type, "MAP(") || StartsWith(type, "UNION(")) {
    return Kind::kNested;
  }
  return Kind::kOther;
}

std::optional<double> ParseDouble(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::strtod(text->c_str(), nullptr);  // also reads inf and nan
}

std::optional<int64_t> ParseInt(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::strtoll(text->c_str(), nullptr, 10);
}

bool PlanReadsColumnsCheaply(const nlohmann::json& node) {
  static const std::set<std::string> kCheap = {
      "SEQ_SCAN", "TABLE_SCAN", "READ_PARQUET", "PARQUET_SCAN", "PROJECTION",
      "FILTER",   "UNION",      "DUMMY_SCAN",   "EMPTY_RESULT", "COLUMN_DATA_SCAN"};
  if (node.is_array()) {
    return std::all_of(node.begin(), node.end(), PlanReadsColumnsCheaply);
  }
  if (!node.is_object() || !node.contains("name") || !node["name"].is_string()) return false;
  if (!kCheap.count(Trim(node["name"].get<std::string>()))) return false;
  return !node.contains("children") || PlanReadsColumnsCheaply(node["children"]);
}

// The query for distinct counts and top values: one row per column with its index k, the
// distinct count d, the top values v1/n1 ... v5/n5 and the 10 smallest values s1 ... s10. Each
// branch aggregates `grouped` (the column's non-null values with their counts n): `min` with a
// count makes a bounded heap, so a column with millions of distinct values costs one hash
// table and no sort.
std::string TopValuesSql(const std::string& relation, const std::vector<std::string>& names,
                         TopValuesPlan plan) {
  std::vector<std::string> branches;
  std::string with;
  if (plan == TopValuesPlan::kSingleScan) {
    // One read of the relation feeds one hash table per grouping set; the groups are
    // materialized once and each branch picks its column's rows (the others are NULL there).
    std::vector<std::string> aliases, sets;
    for (size_t i = 0; i < names.size(); ++i) {
      aliases.push_back(fmt::format("{} AS c{}", SqlIdent(names[i]), i));
      sets.push_back(fmt::format("(c{})", i));
    }
    with = fmt::format(
        "WITH g AS MATERIALIZED (SELECT *, count(*) AS n FROM (SELECT {} FROM {}) "
        "GROUP BY GROUPING SETS ({}))\n",
        Join(aliases, ", "), relation, Join(sets, ", "));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string value, grouped;
    if (plan == TopValuesPlan::kSingleScan) {
      value = fmt::format("c{}", i);
      grouped = fmt::format("g WHERE c{} IS NOT NULL", i);
    } else {
      value = "v";
      std::string col = SqlIdent(names[i]);
      grouped =
          fmt::format("(SELECT {} AS v, count(*) AS n FROM {} WHERE {} IS NOT NULL GROUP BY ALL)",
                      col, relation, col);
    }
    std::vector<std::string> picks;
    for (int t = 1; t <= kTopValues; ++t) {
      picks.push_back(fmt::format("CAST(top[{0}].v AS VARCHAR) AS v{0}, -top[{0}].n AS n{0}", t));
    }
    for (int s = 1; s <= kValueSet; ++s) {
      picks.push_back(fmt::format("CAST(low[{0}] AS VARCHAR) AS s{0}", s));
    }
    branches.push_back(fmt::format(
        "SELECT {} AS k, d, {} FROM (SELECT count(*) AS d, min({{'n': -n, 'v': {}}}, {}) AS top, "
        "min({}, {}) AS low FROM {})",
        i, Join(picks, ", "), value, kTopValues, value, kValueSet, grouped));
  }
  return with + Join(branches, "\nUNION ALL\n");
}

// A DQDL string: double quotes, with " and \ escaped by a backslash.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Rounds down (or up) to two significant digits: 987653 -> 980000 (or 990000).
int64_t RoundTwoDigits(int64_t n, bool up) {
  int64_t unit = 1;
  while (n / unit >= 100) unit *= 10;
  int64_t down = n / unit * unit;
  return up && down < n ? down + unit : down;
}

bool IsPlainNumber(const std::string& text) {
  size_t i = text[0] == '-' ? 1 : 0, digits = 0, dots = 0;
  for (; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++digits;
    } else if (text[i] == '.' && digits > 0 && dots == 0) {
      ++dots;
    } else {
      return false;
    }
  }
  return digits > 0 && text.back() != '.';
}

// A bound for `between` as a plain decimal (what DQDL reads), or nullopt (inf, nan). Values in
// exponent notation widen to the integer outside them.
std::optional<std::string> Bound(const std::string& text, bool upper) {
  if (!text.empty() && IsPlainNumber(text)) return text;
  double v = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return fmt::format("{:.0f}", upper ? std::ceil(v) : std::floor(v));
}

}  // namespace

TopValuesPlan ChooseTopValuesPlan(engine::Connection& conn, const std::string& relation) {
  std::optional<engine::Result> explain;
  try {
    explain.emplace(conn.Query(fmt::format("EXPLAIN (FORMAT json) SELECT * FROM {}", relation)));
  } catch (const std::exception&) {
    return TopValuesPlan::kSingleScan;  // right for any source, if not always the fastest
  }
  for (size_t row = 0; row < explain->row_count(); ++row) {
    if (explain->GetOr(0, row) != "physical_plan") continue;
    auto plan = nlohmann::json::parse(explain->GetOr(1, row), nullptr, false);
    if (plan.is_discarded()) break;
    return PlanReadsColumnsCheaply(plan) ? TopValuesPlan::kPerColumn : TopValuesPlan::kSingleScan;
  }
  return TopValuesPlan::kSingleScan;
}

TableProfile Profile(engine::Connection& conn, const std::string& relation, TopValuesPlan plan) {
  TableProfile profile;
  profile.relation = relation;
  // The columns and their types (binding only; nothing is read).
  auto describe = conn.Query(fmt::format("DESCRIBE SELECT * FROM {}", relation));
  std::vector<std::string> names;
  std::vector<Kind> kinds;
  for (size_t row = 0; row < describe.row_count(); ++row) {
    ColumnProfile c;
    c.name = describe.GetOr(0, row);
    c.type = describe.GetOr(1, row);
    names.push_back(c.name);
    kinds.push_back(KindOf(c.type));
    profile.columns.push_back(std::move(c));
  }

  // Scan 1: every per-column figure but the distinct count, in one aggregate. min and max are
  // taken natively (numbers and dates in their own order) and only then cast to text.
  std::vector<std::string> figures = {"count(*)"};
  for (size_t i = 0; i < names.size(); ++i) {
    std::string col = SqlIdent(names[i]);
    figures.push_back(fmt::format("count({})", col));
    if (kinds[i] == Kind::kNested) continue;
    figures.push_back(fmt::format("CAST(min({0}) AS VARCHAR), CAST(max({0}) AS VARCHAR)", col));
    if (kinds[i] == Kind::kNumeric) {
      figures.push_back(fmt::format("avg({0}), stddev_samp({0})", col));
    } else if (kinds[i] == Kind::kString) {
      figures.push_back(
          fmt::format("min(length(CAST({0} AS VARCHAR))), max(length(CAST({0} AS VARCHAR)))", col));
    }
  }
  auto stats = conn.QueryWithProgress(
      fmt::format("SELECT {} FROM {}", Join(figures, ", "), relation), nullptr);
  profile.rows = stats.GetInt(0, 0);
  size_t at = 1;
  for (size_t i = 0; i < names.size(); ++i) {
    ColumnProfile& c = profile.columns[i];
    c.rows = profile.rows;
    c.nulls = profile.rows - stats.GetInt(at++, 0);
    if (kinds[i] == Kind::kNested) continue;
    c.min = stats.Get(at++, 0);
    c.max = stats.Get(at++, 0);
    if (kinds[i] == Kind::kNumeric) {
      c.mean = ParseDouble(stats.Get(at++, 0));
      c.stddev = ParseDouble(stats.Get(at++, 0));
    } else if (kinds[i] == Kind::kString) {
      c.min_length = ParseInt(stats.Get(at++, 0));
      c.max_length = ParseInt(stats.Get(at++, 0));
    }
  }
  if (profile.rows == 0 || names.empty()) return profile;

  // Scan 2: distinct counts and top values. Exact distinct counts come free with the GROUP BY
  // the top values need; count(DISTINCT c) in scan 1 would build every hash table a second time
  // (on 5M rows x 20 columns, 2 cores: +3.9 s), approx_count_distinct costs +1 s and can't
  // tell a unique column (IsUnique) from a nearly unique one.
  if (plan == TopValuesPlan::kAuto) plan = ChooseTopValuesPlan(conn, relation);
  auto top = conn.QueryWithProgress(TopValuesSql(relation, names, plan), nullptr);
  for (size_t row = 0; row < top.row_count(); ++row) {
    ColumnProfile& c = profile.columns.at(top.GetInt(0, row));
    c.distinct = top.GetInt(1, row);
    size_t col = 2;
    for (int t = 0; t < kTopValues; ++t, col += 2) {
      auto value = top.Get(col, row);
      if (value) c.top_values.push_back({*value, top.GetInt(col + 1, row)});
    }
    if (c.distinct <= kValueSet) {
      for (int s = 0; s < kValueSet; ++s, ++col) {
        auto value = top.Get(col, row);
        if (value) c.values.push_back(*value);
      }
    }
  }
  return profile;
}

std::string SuggestRules(const std::string& table, const TableProfile& profile) {
  std::vector<std::string> rules;
  const int64_t rows = profile.rows;
  const int64_t fifth = (rows + 4) / 5;  // 20%, rounded up
  rules.push_back(fmt::format("RowCount between {} and {}", RoundTwoDigits(rows - fifth, false),
                              RoundTwoDigits(rows + fifth, true)));
  for (const auto& c : profile.columns) {
    if (rows == 0) break;  // an empty table: nothing to say about its columns
    const std::string name = Quote(c.name);
    const int64_t present = c.rows - c.nulls;
    if (present == 0) continue;  // all NULL: nothing to say but that
    Kind kind = KindOf(c.type);
    if (c.nulls == 0) {
      rules.push_back("IsComplete " + name);
    } else {
      int64_t hundredths = present * 100 / c.rows;
      if (hundredths > 0) {
        rules.push_back(fmt::format("Completeness {} >= {}", name,
                                    hundredths % 10 == 0 ? fmt::format("0.{}", hundredths / 10)
                                                         : fmt::format("0.{:02}", hundredths)));
      }
    }
    if (c.nulls == 0 && c.rows >= 2 && c.distinct == c.rows) rules.push_back("IsUnique " + name);
    bool in_rule = false;
    // (Not for values with line breaks, which DQDL has no escape for: one rule, one line.)
    bool one_line = std::none_of(c.values.begin(), c.values.end(), [](const std::string& v) {
      return v.find_first_of("\r\n") != std::string::npos;
    });
    if (kind == Kind::kString && !c.values.empty() && one_line &&
        static_cast<int64_t>(c.values.size()) == c.distinct && c.distinct < present) {
      std::vector<std::string> quoted;
      for (const auto& v : c.values) quoted.push_back(Quote(v));
      rules.push_back(fmt::format("ColumnValues {} in [{}]", name, Join(quoted, ", ")));
      in_rule = true;
    }
    if (kind == Kind::kNumeric && c.min && c.max) {
      auto lo = Bound(*c.min, false), hi = Bound(*c.max, true);
      if (lo && hi) {
        rules.push_back(fmt::format("ColumnValues {} between {} and {}", name, *lo, *hi));
      }
    }
    if (kind == Kind::kString && !in_rule && c.min_length && c.max_length &&
        *c.max_length - *c.min_length <= 2) {
      rules.push_back(
          fmt::format("ColumnLength {} between {} and {}", name, *c.min_length, *c.max_length));
    }
  }
  std::string out = fmt::format("# from a profile of {} rows of {} on {}\nRules = [\n", rows, table,
                                Rfc3339(NowMs()).substr(0, 10));
  for (size_t i = 0; i < rules.size(); ++i) {
    out += "  " + rules[i] + (i + 1 < rules.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

}  // namespace sluice::quality
