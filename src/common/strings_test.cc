#include "common/strings.h"

#include <gtest/gtest.h>

#include "common/one_line.h"
#include "common/redact.h"

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

TEST(JsonDepth, CountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonDepth("{}", 64), 1);
  EXPECT_EQ(JsonDepth(R"({"a": [1, {"b": [[]]}]})", 64), 5);
  EXPECT_EQ(JsonDepth(R"({"a": "[[[[{{{{\"[[["})", 64), 1);  // inside a string, escapes too
  EXPECT_EQ(JsonDepth(R"("\\" [[)", 64), 2);                 // an escaped backslash ends
  EXPECT_EQ(JsonDepth("]]]][", 64), 1);                      // no depth below zero
  EXPECT_EQ(JsonDepth(std::string(70000, '[') + std::string(70000, ']'), 64), 65);
}

TEST(Redact, ReplacesTheLongestSecretFirst) {
  RegisterSecret("zqacme");
  RegisterSecret("zqacme-0123456789abcdef");
  EXPECT_EQ(Redact("account=zqacme&appid=zqacme-0123456789abcdef"), "account=***&appid=***");
  EXPECT_TRUE(IsSecret("zqacme"));
  EXPECT_FALSE(IsSecret("zqacm"));
  // JSON: values are redacted, so a number stays a number.
  RegisterSecret("731904");
  EXPECT_EQ(RedactJson(nlohmann::json{{"rows", 731904}, {"note", "731904 rows"}}).dump(),
            R"({"note":"*** rows","rows":731904})");
}

TEST(OneLine, NeverPassesAControlCharacter) {
  EXPECT_EQ(OneLine("a\r\nb\tc"), "a  b c");
  EXPECT_EQ(OneLine(std::string("x\x1b]0;PWNED\x07y\0z", 14)), "x?]0;PWNED?y?z");
}

}  // namespace sluice
