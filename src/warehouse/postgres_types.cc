#include "warehouse/postgres_types.h"

#include <fmt/format.h>

#include <map>
#include <regex>

#include "common/strings.h"

namespace sluice::warehouse {
namespace {

bool IsNested(const std::string& type) {
  return type.ends_with("]") || type.starts_with("STRUCT(") || type.starts_with("MAP(") ||
         type.starts_with("UNION(");
}

// numeric(p,s) as its precision and scale; false for any other type.
bool NumericOf(const std::string& type, int& precision, int& scale) {
  static const std::regex re(R"(numeric\((\d+),(\d+)\))");
  std::smatch m;
  if (!std::regex_match(type, m, re)) return false;
  precision = std::stoi(m[1]);
  scale = std::stoi(m[2]);
  return true;
}

}  // namespace

std::optional<std::string> PostgresTypeFor(const std::string& catalog_type) {
  static const std::map<std::string, std::string> plain = {
      {"BOOLEAN", "boolean"},
      {"TINYINT", "smallint"},
      {"UTINYINT", "smallint"},
      {"SMALLINT", "smallint"},
      {"USMALLINT", "integer"},
      {"INTEGER", "integer"},
      {"UINTEGER", "bigint"},
      {"BIGINT", "bigint"},
      {"UBIGINT", "numeric(20,0)"},
      {"HUGEINT", "numeric(39,0)"},
      {"UHUGEINT", "numeric(39,0)"},
      {"FLOAT", "real"},
      {"DOUBLE", "double precision"},
      {"DATE", "date"},
      {"TIME", "time without time zone"},
      {"TIME WITH TIME ZONE", "time with time zone"},
      {"TIMESTAMP", "timestamp without time zone"},
      {"TIMESTAMP_S", "timestamp without time zone"},
      {"TIMESTAMP_MS", "timestamp without time zone"},
      {"TIMESTAMP_NS", "timestamp without time zone"},
      {"TIMESTAMP WITH TIME ZONE", "timestamp with time zone"},
      {"INTERVAL", "interval"},
      {"VARCHAR", "text"},
      {"BLOB", "bytea"},
      {"UUID", "uuid"},
      {"JSON", "jsonb"},
  };
  if (auto it = plain.find(catalog_type); it != plain.end()) return it->second;
  static const std::regex decimal(R"(DECIMAL\((\d+),(\d+)\))");
  std::smatch m;
  if (std::regex_match(catalog_type, m, decimal)) {
    return fmt::format("numeric({},{})", m[1].str(), m[2].str());
  }
  if (catalog_type.starts_with("ENUM(")) return "text";
  if (IsNested(catalog_type)) return "jsonb";
  return std::nullopt;
}

std::string PostgresTextOf(const std::string& column, const std::string& catalog_type) {
  if (catalog_type == "BLOB") return fmt::format("'\\x' || hex({})", column);
  if (IsNested(catalog_type)) return fmt::format("CAST(to_json({}) AS VARCHAR)", column);
  if (catalog_type == "TIMESTAMP_NS") {
    // Cut to the microsecond at or before the value, as documented: PostgreSQL would round
    // the nanoseconds instead (23:59:59.9999995 would become the next day).
    return fmt::format(
        "CASE WHEN isfinite({0}) THEN CAST(make_timestamp((epoch_ns({0}) - (epoch_ns({0}) % 1000 "
        "+ 1000) % 1000) // 1000) AS VARCHAR) ELSE CAST({0} AS VARCHAR) END",
        column);
  }
  return fmt::format("CAST({} AS VARCHAR)", column);
}

bool PostgresWidens(const std::string& from, const std::string& to) {
  if (from == to) return false;
  if (to == "text") return true;
  static const std::map<std::string, int> integers = {
      {"smallint", 5}, {"integer", 10}, {"bigint", 19}};  // their most decimal digits
  int p = 0, s = 0, p2 = 0, s2 = 0;
  auto from_int = integers.find(from);
  if (from_int != integers.end()) {
    if (auto to_int = integers.find(to); to_int != integers.end()) {
      return to_int->second > from_int->second;
    }
    return to == "numeric" || (NumericOf(to, p2, s2) && p2 - s2 >= from_int->second);
  }
  if (NumericOf(from, p, s)) {
    return to == "numeric" || (NumericOf(to, p2, s2) && s2 >= s && p2 - s2 >= p - s);
  }
  return from == "real" && to == "double precision";
}

}  // namespace sluice::warehouse
