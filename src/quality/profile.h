#pragma once
// Data profiling for `sluice profile TABLE [--suggest]`: per-column statistics from two scans of
// the data, and a starting DQDL rule set from them (as Glue Data Quality's rule
// recommendations).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sluice::quality {

struct ValueCount {
  std::string value;
  int64_t count = 0;
};

struct ColumnProfile {
  std::string name, type;  // DuckDB type name, e.g. VARCHAR, DECIMAL(12,2)
  int64_t rows = 0, nulls = 0;
  // Exact: the number of groups of a GROUP BY on the column (which the top values need anyway),
  // not approx_count_distinct. NULL is not a value.
  int64_t distinct = 0;
  std::optional<std::string> min, max;  // CAST(min(c) AS VARCHAR): ordered natively, then text
  std::optional<double> mean, stddev;   // numeric columns; stddev is the sample one (n - 1)
  std::optional<int64_t> min_length, max_length;  // string columns, in characters (code points)
  // Up to 5 most frequent non-null values, most frequent first; ties by smallest value.
  std::vector<ValueCount> top_values;
  // Every distinct non-null value in value order when there are at most 10 of them (for
  // `ColumnValues "c" in [...]`), else empty.
  std::vector<std::string> values;
};

struct TableProfile {
  std::string relation;
  int64_t rows = 0;
  std::vector<ColumnProfile> columns;
};

// How Profile() finds distinct counts and top values (its second scan).
enum class TopValuesPlan {
  kAuto,        // kPerColumn when the relation reads columnar storage only, else kSingleScan
  kPerColumn,   // UNION ALL of one GROUP BY per column: each reads just its column
  kSingleScan,  // one GROUP BY GROUPING SETS ((c1), (c2), ...) over one read of the relation
};

// kPerColumn when every operator of the relation's plan is a scan of DuckDB tables or Parquet
// files (which read one column cheaply), or a projection, filter or union of them; kSingleScan
// for anything else (CSV and JSON files, which are parsed whole on every read, joins,
// aggregates).
TopValuesPlan ChooseTopValuesPlan(engine::Connection& conn, const std::string& relation);

// Profiles `relation` (a table or view name such as "silver.orders" — the caller has attached
// the catalog — or a parenthesized query) with two scans: one aggregate query for counts, nulls,
// min, max, mean, stddev and lengths, and one for distinct counts and top values (none for an
// empty relation). Interruptible (sluice::Interrupted()).
TableProfile Profile(engine::Connection& conn, const std::string& relation,
                     TopValuesPlan plan = TopValuesPlan::kAuto);

// A starting DQDL rule set from a profile:
//   # from a profile of N rows of TABLE on YYYY-MM-DD
//   Rules = [
//     RowCount between A and B,
//     ...
//   ]
// RowCount first (±20% of the rows, widened to two significant digits), then per column in
// table order: IsComplete (no nulls) or Completeness >= R (some nulls; the non-null ratio
// rounded down to hundredths), IsUnique (no nulls and no repeats, 2+ rows), ColumnValues in
// [...] (strings with at most 10 distinct values, some repeated), ColumnValues between MIN and
// MAX (numeric), ColumnLength between A and B (strings whose lengths vary by at most 2, when no
// `in` rule already pins the values). An empty profile gets RowCount only.
std::string SuggestRules(const std::string& table, const TableProfile& profile);

}  // namespace sluice::quality
