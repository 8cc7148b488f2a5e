#include "common/strings.h"

#include <gtest/gtest.h>

namespace sluice {

TEST(Strings, NearestSuggestsTyposOnly) {
  EXPECT_EQ(Nearest("fromat", {"format", "source", "csv"}), "format");
  EXPECT_EQ(Nearest("zzzzzz", {"format", "source"}), "");
}

TEST(Strings, SqlQuoting) {
  EXPECT_EQ(SqlString("it's"), "'it''s'");
  EXPECT_EQ(SqlIdent("a\"b"), "\"a\"\"b\"");
}

TEST(Strings, SqlLists) {
  EXPECT_EQ(SqlStringList({"a", "it's"}), "['a', 'it''s']");
  EXPECT_EQ(SqlStringList({}), "[]");
  EXPECT_EQ(SqlIdentList({"id", "my col"}), "\"id\", \"my col\"");
  EXPECT_EQ(SqlAnyNull({"a", "b"}), "\"a\" IS NULL OR \"b\" IS NULL");
}

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(Join(Split("a/b//c", '/'), "|"), "a|b||c");
  EXPECT_EQ(Trim("  x y \n"), "x y");
  EXPECT_EQ(HumanCount(1234567), "1,234,567");
}

}  // namespace sluice
