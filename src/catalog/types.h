#pragma once
// Column types: which DuckDB types widen into which (schema evolution), and which type a column
// of text values may take (the crawler's typing of CSV files).
#include <array>
#include <string>

namespace sluice::catalog {

// The narrowest type that holds every value of `a` and of `b` (VARCHAR as the last resort).
std::string WidenType(const std::string& a, const std::string& b);
// True when every value of type `narrow` fits `wide` unchanged.
bool FitsIn(const std::string& narrow, const std::string& wide);

// The types a column of text may take, in the order they are tried: the first that every value
// of the column converts to without loss is the column's type; VARCHAR when none is.
inline constexpr std::array<const char*, 7> kValueTypes = {
    "BIGINT", "DOUBLE", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "BOOLEAN"};

// A SQL condition that holds when the text `value` (a SQL expression, not NULL) converts to
// `type` (one of kValueTypes) without losing anything written in it: no time of day dropped by
// DATE, no date by TIME, no digit past the microsecond or offset from UTC by TIMESTAMP (TIMESTAMP
// WITH TIME ZONE takes values that all name their offset), no fraction rounded away by BIGINT, no
// digit past the 15th by DOUBLE, no leading zero or plus sign dropped by a number. `format` is a
// strptime format DATE or TIMESTAMP values are read with
// ("" for ISO 8601), as read_csv's dateformat and timestampformat.
std::string ConvertsLosslessly(const std::string& type, const std::string& value,
                               const std::string& format = "");

}  // namespace sluice::catalog
