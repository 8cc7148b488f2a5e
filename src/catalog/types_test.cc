#include "catalog/types.h"

#include <gtest/gtest.h>

#include "catalog/catalog.h"

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
