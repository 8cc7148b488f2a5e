#include "quality/rules.h"

#include <gtest/gtest.h>

namespace sluice::quality {
namespace {

Rule MustParse(const std::string& text) {
  ParseError error;
  auto rule = Parse(text, error);
  EXPECT_TRUE(rule) << text << ": " << error.message;
  return rule.value_or(Rule{});
}

TEST(Rules, ParsesEachKind) {
  auto r = MustParse(R"(IsComplete "order_id")");
  EXPECT_EQ(r.type, "IsComplete");
  EXPECT_EQ(r.column, "order_id");
  r = MustParse("RowCount between 1 and 10");
  EXPECT_EQ(r.op, "between");
  EXPECT_EQ(r.values, (std::vector<std::string>{"1", "10"}));
  r = MustParse(R"(ColumnValues "country" in ["DE", "FR"])");
  EXPECT_EQ(r.op, "in");
  EXPECT_EQ(r.values, (std::vector<std::string>{"'DE'", "'FR'"}));
  r = MustParse(R"(ColumnValues "amount" >= -1.5)");
  EXPECT_EQ(r.values[0], "-1.5");
  EXPECT_FALSE(MustParse("RowCount > 0").row_level());
}

TEST(Rules, ErrorsPointAtTheToken) {
  ParseError error;
  EXPECT_FALSE(Parse(R"(IsComplet "x")", error));
  EXPECT_EQ(error.offset, 0u);
  EXPECT_NE(error.message.find("did you mean 'IsComplete'"), std::string::npos);
  EXPECT_FALSE(Parse(R"(ColumnValues "a" between 1 or 2)", error));
  EXPECT_EQ(error.offset, 27u);
  EXPECT_FALSE(Parse(R"(IsComplete order_id)", error));
  EXPECT_NE(error.message.find("quoted column"), std::string::npos);
  EXPECT_FALSE(Parse(R"(ColumnValues "a" in [1, 2)", error));
}

TEST(Rules, EvaluatesAllRulesInOneQuery) {
  engine::Database db;
  engine::Connection conn(db);
  conn.Execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (2, NULL), (2, 'c')) v(id, s)");
  std::vector<Rule> rules = {MustParse(R"(IsComplete "s")"), MustParse(R"(IsUnique "id")"),
                             MustParse("RowCount = 3"), MustParse(R"(ColumnValues "id" <= 1)")};
  auto results = Evaluate(conn, "t", "t", rules);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, "fail");
  EXPECT_EQ(results[0].failing_rows, 1);
  EXPECT_EQ(results[1].outcome, "fail");
  EXPECT_EQ(results[2].outcome, "pass");
  EXPECT_EQ(results[2].observed, "3");
  EXPECT_EQ(results[3].failing_rows, 2);
}

}  // namespace
}  // namespace sluice::quality
