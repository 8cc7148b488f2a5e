#include "catalog/types.h"

#include <array>

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

}  // namespace sluice::catalog
