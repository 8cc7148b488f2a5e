#include "catalog/types.h"

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "common/strings.h"
#include "engine/engine.h"

namespace sluice::catalog {
namespace {

TEST(Types, Widening) {
  EXPECT_EQ(WidenType("BIGINT", "DOUBLE"), "DOUBLE");
  EXPECT_EQ(WidenType("INTEGER", "BIGINT"), "BIGINT");
  EXPECT_EQ(WidenType("DATE", "TIMESTAMP"), "TIMESTAMP");
  EXPECT_EQ(WidenType("BIGINT", "VARCHAR"), "VARCHAR");
  EXPECT_EQ(WidenType("DATE", "BIGINT"), "VARCHAR");
  EXPECT_EQ(WidenType("DECIMAL(12,2)", "DECIMAL(10,1)"), "DOUBLE");
  EXPECT_TRUE(FitsIn("INTEGER", "BIGINT"));
  EXPECT_FALSE(FitsIn("DOUBLE", "BIGINT"));
}

// The first of kValueTypes that every value converts to without loss, as the crawler types a
// column ("VARCHAR" when none).
std::string TypeOf(engine::Connection& conn, const std::vector<std::string>& values,
                   const std::string& format = "") {
  std::vector<std::string> rows;
  for (const auto& v : values) rows.push_back("(" + SqlString(v) + ")");
  for (const char* type : kValueTypes) {
    auto r = conn.Query("SELECT bool_and(coalesce((" + ConvertsLosslessly(type, "v", format) +
                        "), false)) FROM (VALUES " + Join(rows, ", ") + ") t(v)");
    if (r.GetOr(0, 0) == "true") return type;
  }
  return "VARCHAR";
}

// Every pair where DuckDB's cast of text loses something: the column stays in the wider type
// (or text) instead.
TEST(Types, ValuesTakeATypeOnlyWithoutLoss) {
  engine::Database db;
  engine::Connection conn(db);
  // Timestamps -> date: the time of day would be dropped.
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00", "2026-01-02 07:00:00"}), "TIMESTAMP");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01", "2026-01-02 00:00:00"}), "TIMESTAMP");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01", "2026-1-2"}), "DATE");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01T05:03:00Z", "2026-01-01 05:03:00+00:00"}), "TIMESTAMP");
  // Text after a date, an offset from UTC, digits past the microsecond: lost by the casts.
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 note"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00+02", "2026-01-01T05:03:00Z"}),
            "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00+02", "2026-01-01 05:03:00"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00 Europe/Paris"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00.1234567"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"2026-01-01 05:03:00.123456"}), "TIMESTAMP");
  // Timestamps -> time: the date would be dropped.
  EXPECT_EQ(TypeOf(conn, {"05:03", "23:59:59.5"}), "TIME");
  EXPECT_EQ(TypeOf(conn, {"05:03:00.1234567"}), "VARCHAR");
  // Decimals -> integer: the fraction would be rounded away.
  EXPECT_EQ(TypeOf(conn, {"1", "1.5"}), "DOUBLE");
  EXPECT_EQ(TypeOf(conn, {"1", "2.0"}), "DOUBLE");
  EXPECT_EQ(TypeOf(conn, {"1", "-2", "9223372036854775807"}), "BIGINT");
  // Long integers -> double: digits past the 15th would be rounded.
  EXPECT_EQ(TypeOf(conn, {"12345678901234567890"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"1.5", "1234567890123456"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"1.5", "123456789012345"}), "DOUBLE");
  EXPECT_EQ(TypeOf(conn, {"1.5", "100000000000000000000"}), "DOUBLE");
  EXPECT_EQ(TypeOf(conn, {"0.1", "1e5", ".5", "-3.25E-2"}), "DOUBLE");
  EXPECT_EQ(TypeOf(conn, {"1e400"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"1e-400"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"0.0", "0e5"}), "DOUBLE");
  // Text with leading zeros, plus signs or other spellings -> numbers: the text would change.
  EXPECT_EQ(TypeOf(conn, {"01234", "10115"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"00.5"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"+4930123"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"0x1F"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"1_000"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"inf"}), "VARCHAR");
  EXPECT_EQ(TypeOf(conn, {"0", "7"}), "BIGINT");
  EXPECT_EQ(TypeOf(conn, {"true", "F"}), "BOOLEAN");
  // With a date format the whole text must match it.
  EXPECT_EQ(TypeOf(conn, {"31/01/2026", "01/02/2026"}, "%d/%m/%Y"), "DATE");
  EXPECT_EQ(TypeOf(conn, {"31/01/2026 05:03"}, "%d/%m/%Y"), "VARCHAR");
}

TEST(Keys, FormatAndPartitions) {
  EXPECT_EQ(FormatOfKey("landing/o/a.CSV.gz"), "csv");
  EXPECT_EQ(FormatOfKey("landing/o/a.ndjson"), "json");
  EXPECT_EQ(FormatOfKey("landing/o/a.parquet"), "parquet");
  EXPECT_EQ(FormatOfKey("landing/o/a.xlsx"), "");
  EXPECT_EQ(PartitionOf("landing/o/date=2026-01-01/x=1/a.csv", "landing/o/"),
            "date=2026-01-01/x=1");
  EXPECT_EQ(PartitionOf("landing/o/sub/a.csv", "landing/o/"), "");
}

}  // namespace
}  // namespace sluice::catalog
