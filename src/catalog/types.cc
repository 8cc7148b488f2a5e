#include "catalog/types.h"

#include <fmt/format.h>

#include <array>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

namespace {
// Numeric types, narrowest first. DECIMAL sits between the integers and the floats.
constexpr std::array<const char*, 8> kNumeric = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                                                 "HUGEINT", "DECIMAL",  "FLOAT",   "DOUBLE"};
int NumericRank(const std::string& type) {
  std::string base = type.substr(0, type.find('('));
  for (size_t i = 0; i < kNumeric.size(); ++i) {
    if (base == kNumeric[i]) return static_cast<int>(i);
  }
  return -1;
}
int TemporalRank(const std::string& type) {
  if (type == "DATE") return 0;
  if (type == "TIMESTAMP") return 1;
  if (type == "TIMESTAMP WITH TIME ZONE") return 2;
  return -1;
}
}  // namespace

std::string WidenType(const std::string& a, const std::string& b) {
  if (a == b) return a;
  if (a == "NULL") return b;
  if (b == "NULL") return a;
  int na = NumericRank(a), nb = NumericRank(b);
  if (na >= 0 && nb >= 0) {
    // Two different decimals, or a decimal and a wide integer: DOUBLE holds both.
    if (na == nb || (na == 5 && nb == 4) || (na == 4 && nb == 5)) return "DOUBLE";
    return na > nb ? a : b;
  }
  int ta = TemporalRank(a), tb = TemporalRank(b);
  if (ta >= 0 && tb >= 0) return ta > tb ? a : b;
  return "VARCHAR";
}

bool FitsIn(const std::string& narrow, const std::string& wide) {
  return WidenType(narrow, wide) == wide;
}

namespace {
// Text shapes whose cast keeps every character's meaning. DuckDB's casts are lenient where that
// loses information: '2026-01-01 05:03' casts to DATE and '05:03' to TIME by dropping a part,
// '2026-01-01 x' to DATE by ignoring the rest, '...+02' to TIMESTAMP by dropping the offset,
// '0x1F' and '1_000' to BIGINT, a 20-digit integer to DOUBLE by rounding. So the text must have
// one of these shapes first, and then cast.
constexpr const char* kIsoDate = "[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}";
constexpr const char* kIsoTime = "[0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?";
// UTC written as Z, UTC or a zero offset: a TIMESTAMP holds that instant as it is.
constexpr const char* kUtc = "(Z| ?UTC|[+-]00(:?00)?)?";
constexpr const char* kOffset = "(Z| ?UTC|[+-][0-9]{2}(:?[0-9]{2})?)";
constexpr const char* kDecimal = "-?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?";
// A double keeps 15 significant decimal digits (DBL_DIG) exactly.
constexpr int kDoubleDigits = 15;
// The smallest normal double: below it digits are lost.
constexpr const char* kMinNormal = "2.2250738585072014e-308";
}  // namespace

std::string ConvertsLosslessly(const std::string& type, const std::string& value,
                               const std::string& format) {
  std::string t = fmt::format("trim({})", value);
  // Codes such as zip codes and phone numbers keep their leading zeros and plus signs.
  std::string no_leading_zero = fmt::format("NOT regexp_matches({}, '^-?0[0-9]')", t);
  auto shaped = [&](const std::string& shape, const std::string& cast_to) {
    return fmt::format("regexp_full_match({0}, '{1}') AND TRY_CAST({0} AS {2}) IS NOT NULL", t,
                       shape, cast_to);
  };
  if (type == "BIGINT") return shaped("-?[0-9]+", "BIGINT") + " AND " + no_leading_zero;
  if (type == "DOUBLE") {
    std::string digits = fmt::format("regexp_extract({}, '^-?([0-9.]*)', 1)", t);
    std::string number = fmt::format("TRY_CAST({} AS DOUBLE)", t);
    return fmt::format(
        "{0} AND {1} AND length(trim(replace({2}, '.', ''), '0')) <= {3} AND isfinite({4}) AND "
        "({4} = 0) = (NOT regexp_matches({2}, '[1-9]')) AND ({4} = 0 OR abs({4}) >= {5})",
        shaped(kDecimal, "DOUBLE"), no_leading_zero, digits, kDoubleDigits, number, kMinNormal);
  }
  if ((type == "DATE" || type == "TIMESTAMP") && !format.empty()) {
    // strptime reads the whole text or fails.
    return fmt::format("try_strptime({}, {}) IS NOT NULL", t, SqlString(format));
  }
  if (type == "DATE") return shaped(kIsoDate, "DATE");
  if (type == "TIME") return shaped(kIsoTime, "TIME");
  if (type == "TIMESTAMP") {
    return shaped(fmt::format("{}([ T]{}{})?", kIsoDate, kIsoTime, kUtc), "TIMESTAMP");
  }
  if (type == "TIMESTAMP WITH TIME ZONE") {
    // Only values that name their offset: a bare one would be taken in the session's zone.
    return shaped(fmt::format("{}[ T]{}{}", kIsoDate, kIsoTime, kOffset), "TIMESTAMPTZ");
  }
  if (type == "BOOLEAN") return fmt::format("TRY_CAST({} AS BOOLEAN) IS NOT NULL", t);
  Fail(ErrorKind::kInternal, "no lossless test for type {}", type);
}

}  // namespace sluice::catalog
