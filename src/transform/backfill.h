#pragma once
// A backfill: `sluice run JOB --partitions 'dt>=2026-01-01 and dt<2026-02-01'` recomputes the
// output partitions a range names and replaces exactly those in one commit. The range is a
// conjunction of comparisons of the output's partition columns with literal values, parsed here
// (not by SQL: values are bare words such as 2026-01-01) and turned into SQL that casts each value
// to its column's type, so that rows and files are judged by one predicate.
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "meta/records.h"

namespace sluice::transform {

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct PartitionCondition {
  std::string column;  // as written (matched case-insensitively)
  CompareOp op = CompareOp::kEq;
  std::string value;  // the literal, unquoted
};

struct PartitionRange {
  std::string text;  // as given, for messages and the run's record
  std::vector<PartitionCondition> conditions;
};

// Parses `text`: `COLUMN OP VALUE [and COLUMN OP VALUE]...`, OP one of = != <> < <= > >=, VALUE a
// bare word or a 'single-quoted' text ('' for a quote). Throws Error(kUsage, usage.partitions)
// naming the position of what is wrong; an empty text, more than 32 conditions or a text longer
// than 4096 bytes are refused the same way.
PartitionRange ParsePartitionRange(const std::string& text);

// The columns the range names, lower-cased, each once, in order of appearance.
std::vector<std::string> RangeColumns(const PartitionRange& range);

// Lower-cased column name -> DuckDB type name, for the columns a range compares.
using ColumnTypes = std::map<std::string, std::string>;

// A SQL predicate over columns named as the range names them, each value cast to its column's
// type (TRY_CAST: a value the type cannot hold makes the comparison NULL; CheckRangeValues
// refuses such values first). Every column of the range must be in `types`.
std::string RangeSql(const PartitionRange& range, const ColumnTypes& types);

// Throws Error(kUsage, usage.partitions) for the first value of the range its column's type
// cannot hold ("'2026-13-01' is not a valid DATE for dt").
void CheckRangeValues(engine::Connection& conn, const PartitionRange& range,
                      const ColumnTypes& types);

// The keys of `files` whose partition folders ("dt=2026-01-01/region=eu") fall in the range, by
// the same predicate as rows (DuckDB's %-escapes in folder names decoded; a NULL partition,
// written `NULL` or `__HIVE_DEFAULT_PARTITION__`, is in no range).
std::vector<std::string> FilesInRange(engine::Connection& conn, const PartitionRange& range,
                                      const ColumnTypes& types,
                                      const std::vector<meta::TableFile>& files);

}  // namespace sluice::transform
