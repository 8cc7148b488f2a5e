// The range of a backfill: its parser and the one predicate rows and files are judged by.
#include "transform/backfill.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::transform {
namespace {

std::string ParseError(const std::string& text) {
  try {
    ParsePartitionRange(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "usage.partitions");
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    return e.what();
  }
  return "";
}

TEST(PartitionRange, ParsesComparisonsJoinedByAnd) {
  auto r = ParsePartitionRange(" dt>=2026-01-01 AND dt < '2026-02-01' and \"Region\"<>'it''s' ");
  ASSERT_EQ(r.conditions.size(), 3u);
  EXPECT_EQ(r.conditions[0].column, "dt");
  EXPECT_EQ(r.conditions[0].op, CompareOp::kGe);
  EXPECT_EQ(r.conditions[0].value, "2026-01-01");
  EXPECT_EQ(r.conditions[1].op, CompareOp::kLt);
  EXPECT_EQ(r.conditions[1].value, "2026-02-01");
  EXPECT_EQ(r.conditions[2].column, "Region");
  EXPECT_EQ(r.conditions[2].op, CompareOp::kNe);
  EXPECT_EQ(r.conditions[2].value, "it's");
  EXPECT_EQ(RangeColumns(r), (std::vector<std::string>{"dt", "region"}));
}

TEST(PartitionRange, RefusesWhatItCannotRead) {
  EXPECT_NE(ParseError("").find("the range is empty"), std::string::npos);
  EXPECT_NE(ParseError("dt").find("expected a comparison"), std::string::npos);
  EXPECT_NE(ParseError("dt=").find("expected a value"), std::string::npos);
  EXPECT_NE(ParseError("dt=1 or dt=2").find("expected `and` or the end at position 6"),
            std::string::npos);
  EXPECT_NE(ParseError("dt=1 and").find("expected a partition column"), std::string::npos);
  EXPECT_NE(ParseError("dt='1").find("never closed"), std::string::npos);
  EXPECT_NE(ParseError("\"\"=1").find("an empty column name"), std::string::npos);
  EXPECT_NE(ParseError("dt==1").find("cannot start with a comparison"), std::string::npos);
  EXPECT_NE(ParseError("dt='\x1b[2J'").find("a control character (0x1b) at position 5"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(5000, 'a')).find("at most 4096"), std::string::npos);
  std::string many = "dt=1";
  for (int i = 0; i < 40; ++i) many += " and dt=1";
  EXPECT_NE(ParseError(many).find("more than 32 comparisons"), std::string::npos);
}

TEST(PartitionRange, FilesAreJudgedByTheirFoldersAsRowsByTheirValues) {
  engine::Database db;
  engine::Connection conn(db);
  auto r = ParsePartitionRange("dt>=2026-01-02 and dt<2026-01-04 and region='e/u'");
  ColumnTypes types{{"dt", "DATE"}, {"region", "VARCHAR"}};
  std::vector<meta::TableFile> files;
  for (const char* p : {"dt=2026-01-01/region=e%2Fu", "dt=2026-01-02/region=e%2Fu",
                        "dt=2026-01-03/region=e%2Fu", "dt=2026-01-03/region=us",
                        "dt=NULL/region=e%2Fu", "dt=__HIVE_DEFAULT_PARTITION__/region=e%2Fu"}) {
    files.push_back({std::string("curated/t/") + p + "/f.parquet", 1, p});
  }
  EXPECT_EQ(FilesInRange(conn, r, types, files),
            (std::vector<std::string>{"curated/t/dt=2026-01-02/region=e%2Fu/f.parquet",
                                      "curated/t/dt=2026-01-03/region=e%2Fu/f.parquet"}));
  auto rows = conn.Query(
      "SELECT count(*) FROM (VALUES (DATE '2026-01-03', 'e/u'), "
      "(DATE '2026-01-04', 'e/u')) t(dt, region) WHERE " +
      RangeSql(r, types));
  EXPECT_EQ(rows.GetInt(0, 0), 1);
}

TEST(PartitionRange, AValueItsTypeCannotHoldIsRefused) {
  engine::Database db;
  engine::Connection conn(db);
  auto r = ParsePartitionRange("dt>=2026-13-01");
  try {
    CheckRangeValues(conn, r, {{"dt", "DATE"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--partitions: '2026-13-01' is not a valid DATE for dt");
  }
  EXPECT_THROW(RangeSql(r, {{"other", "DATE"}}), Error);
  // A value its type holds only rounded would pick partitions the range does not name.
  try {
    CheckRangeValues(conn, ParsePartitionRange("i=1.5"), {{"i", "INTEGER"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--partitions: '1.5' is not exactly of type INTEGER for i (it would be 2)");
  }
  EXPECT_NO_THROW(CheckRangeValues(conn, ParsePartitionRange("d=2.5 and i=2 and s='1.5'"),
                                   {{"d", "DECIMAL(6,2)"}, {"i", "INTEGER"}, {"s", "VARCHAR"}}));
}

}  // namespace
}  // namespace sluice::transform
