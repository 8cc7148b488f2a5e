#include "orchestrator/expression.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::orchestrator {
namespace {

using nlohmann::json;

std::string ParseError(const std::string& text) {
  try {
    Expression::Parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Expression, ComparesAndJoins) {
  json scope = {{"params", {{"region", "eu"}}}, {"steps", {{"clean", {{"rows_out", 12}}}}}};
  EXPECT_TRUE(
      Expression::Parse("steps.clean.rows_out > 10 and params.region == 'eu'").Evaluate(scope));
  EXPECT_FALSE(Expression::Parse("not (steps.clean.rows_out > 10)").Evaluate(scope));
  EXPECT_TRUE(Expression::Parse("params.nope or params.region = \"eu\"").Evaluate(scope));
  EXPECT_TRUE(Expression::Parse("not not true").Evaluate(scope));
}

// Nesting is bounded so that no text can overflow the stack when parsing or evaluating it: deep
// parentheses and `not` chains stop at 256 levels; long and/or chains are flat.
TEST(Expression, DeepNestingIsAnErrorNotACrash) {
  std::string deep = std::string(15000, '(') + "true" + std::string(15000, ')');
  EXPECT_EQ(ParseError(deep), "column 257: nested more than 256 levels deep");
  std::string nots;
  for (int i = 0; i < 15000; ++i) nots += "not ";
  EXPECT_EQ(ParseError(nots + "true"), "column 1025: nested more than 256 levels deep");
  EXPECT_EQ(ParseError(std::string(256, '(') + "true" + std::string(256, ')')), "");
  std::string chain = "false";
  for (int i = 0; i < 100000; ++i) chain += i % 2 ? " or false" : " and true";
  EXPECT_FALSE(Expression::Parse(chain).Evaluate(json::object()));
  EXPECT_TRUE(Expression::Parse(chain + " or true").Evaluate(json::object()));
}

}  // namespace
}  // namespace sluice::orchestrator
