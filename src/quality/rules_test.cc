#include "quality/rules.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/strings.h"
#include "quality/check_specs.h"

namespace sluice::quality {
namespace {

Rule MustParse(const std::string& text) {
  ParseError error;
  auto rule = Parse(text, error);
  EXPECT_TRUE(rule) << text << ": " << error.message << " at " << error.offset;
  return rule.value_or(Rule{});
}

TEST(Rules, ParsesEachKind) {
  auto r = MustParse(R"(IsComplete "order_id")");
  EXPECT_EQ(r.type, "IsComplete");
  EXPECT_EQ(r.args, std::vector<std::string>{"order_id"});
  r = MustParse("RowCount between 1 and 10");
  EXPECT_EQ(r.condition->op, "between");
  EXPECT_EQ(r.condition->operands[1].sql, "10");
  r = MustParse(R"(ColumnValues "country" in ["DE", "FR"])");
  EXPECT_EQ(r.condition->op, "in");
  EXPECT_EQ(r.condition->operands[0].sql, "'DE'");
  r = MustParse(R"(ColumnValues "amount" >= -1.5)");
  EXPECT_EQ(r.condition->operands[0].sql, "-1.5");
  EXPECT_FALSE(MustParse("RowCount > 0").row_level());
  EXPECT_TRUE(MustParse(R"((IsComplete "a") and (ColumnValues "b" > 0))").row_level());
  r = MustParse(R"(ColumnValues "ts" > (now() - 3 days))");
  EXPECT_EQ(r.condition->operands[0].sql, "(now() - INTERVAL 3 DAY)");
  r = MustParse("RowCount > avg(last(10)) * 0.8");
  EXPECT_TRUE(r.condition->dynamic());
  r = MustParse(R"(ColumnValues "c" in ["a"] with threshold > 0.9 )");
  EXPECT_EQ(r.threshold->text, "> 0.9");
  r = MustParse(R"(IsComplete "c" where "country = 'DE'")");
  EXPECT_EQ(r.where, "country = 'DE'");
  r = MustParse(R"(ReferentialIntegrity "id" "gold.ids.id" = 1.0)");
  EXPECT_EQ(r.args.size(), 2u);
  r = MustParse(R"(IsPrimaryKey "a" "b")");
  EXPECT_EQ(r.args.size(), 2u);
}

TEST(Rules, ParsesRuleSetsWithComments) {
  ParseError error;
  auto rules = ParseRuleSet(R"(# orders
Rules = [
  RowCount > 0,   # not empty
  IsComplete "id",
  (IsUnique "id") or (ColumnValues "id" > 100),
]
)",
                            error);
  ASSERT_TRUE(rules) << error.message;
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[1].text, R"(IsComplete "id")");
  EXPECT_EQ((*rules)[2].type, "or");
  EXPECT_EQ((*rules)[2].text, R"((IsUnique "id") or (ColumnValues "id" > 100))");
}

TEST(Rules, ErrorsPointAtTheTokenWithTheExpectedOne) {
  ParseError error;
  EXPECT_FALSE(Parse(R"(IsComplet "x")", error));
  EXPECT_EQ(error.offset, 0u);
  EXPECT_NE(error.message.find("did you mean 'IsComplete'"), std::string::npos);
  EXPECT_FALSE(Parse(R"(ColumnValues "a" between 1 or 2)", error));
  EXPECT_EQ(error.offset, 27u);
  EXPECT_NE(error.message.find("expected 'and'"), std::string::npos);
  EXPECT_FALSE(Parse(R"(IsComplete order_id)", error));
  EXPECT_NE(error.message.find("quoted column"), std::string::npos);
  EXPECT_FALSE(Parse(R"(ColumnValues "a" in [1, 2)", error));
  EXPECT_FALSE(Parse(R"(RowCount > 0 with threshold > 0.5)", error));
  EXPECT_NE(error.message.find("not a row-level rule"), std::string::npos);
  auto set = ParseRuleSet("Rules = [\n  RowCount > 0\n  IsComplete \"a\"\n]", error);
  EXPECT_FALSE(set);
  EXPECT_EQ(LineColumn("Rules = [\n  RowCount > 0\n  IsComplete \"a\"\n]", error.offset),
            (std::pair<int, int>{3, 3}));
  EXPECT_NE(error.message.find("expected ','"), std::string::npos);
  // History is kept per rule, so a composite's part cannot have a dynamic threshold.
  EXPECT_FALSE(Parse(R"((IsComplete "a") and (RowCount > avg(last(3))))", error));
  EXPECT_EQ(error.offset, 21u);
  EXPECT_NE(error.message.find("cannot be part of an and/or rule"), std::string::npos);
  EXPECT_FALSE(Parse(R"((Mean "a" > max(last(2))) or (RowCount > 0))", error));
  EXPECT_EQ(error.offset, 0u);
}

// Nesting is bounded, so no rule text can overflow the stack: thousands of parentheses, around
// rules or inside a value, and chains of unary minus end in an error at the 257th level.
TEST(Rules, DeepNestingIsAnErrorNotACrash) {
  ParseError error;
  std::string deep_rule = std::string(5000, '(') + "RowCount > 0" + std::string(5000, ')');
  EXPECT_FALSE(Parse(deep_rule, error));
  EXPECT_EQ(error.offset, 256u);
  EXPECT_EQ(error.message, "nested more than 256 levels deep");
  std::string deep_value = "RowCount > " + std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_FALSE(Parse(deep_value, error));
  EXPECT_EQ(error.message, "nested more than 256 levels deep");
  std::string minus_chain = "RowCount > ";
  for (int i = 0; i < 100000; ++i) minus_chain += "- ";
  EXPECT_FALSE(Parse(minus_chain + "1", error));
  EXPECT_EQ(error.message, "nested more than 256 levels deep");
  // 256 levels are still fine.
  EXPECT_TRUE(Parse(std::string(255, '(') + "RowCount > 0" + std::string(255, ')'), error))
      << error.message;
}

TEST(Rules, QuarantineNeedsARowLevelRuleWithAFixedThreshold) {
  project::Diagnostics diagnostics;
  auto rules = ParseCheckSpecs(
      {{R"(ColumnValues "a" > avg(last(3)))", "", "quarantine", {"jobs/j.yaml", 7, 5}},
       {"RowCount > 0", "", "quarantine", {"jobs/j.yaml", 9, 5}},
       {R"(ColumnValues "a" > 0)", "", "quarantine", {"jobs/j.yaml", 11, 5}}},
      diagnostics);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].text, R"(ColumnValues "a" > 0)");
  ASSERT_EQ(diagnostics.items().size(), 2u);
  EXPECT_EQ(diagnostics.items()[0].where.str(), "jobs/j.yaml:7:5");
  EXPECT_NE(diagnostics.items()[0].message.find("dynamic threshold"), std::string::npos);
  EXPECT_NE(diagnostics.items()[1].message.find("judges the whole table"), std::string::npos);
}

class Eval : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_.Execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a', 10.0, DATE '2026-01-01', 'DE'), "
        "(2, NULL, 20.0, DATE '2026-01-02', 'DE'), (2, 'cc', 30.0, NULL, 'FR'), "
        "(4, 'dddd', NULL, DATE '2026-01-04', 'FR')) v(id, s, x, d, country)");
    conn_.Execute("CREATE TABLE ref AS SELECT * FROM (VALUES (1), (2), (3)) v(id)");
    conn_.Execute("CREATE TABLE same AS SELECT * FROM t");
  }
  meta::CheckResult One(const std::string& text, const History& history = nullptr) {
    auto results = Evaluate(conn_, "t", "t", {MustParse(text)}, history);
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? meta::CheckResult{} : results[0];
  }
  void Expect(const std::string& text, const std::string& outcome) {
    auto r = One(text);
    EXPECT_EQ(r.outcome, outcome) << text << " observed " << r.observed << " " << r.message;
  }
  engine::Database db_;
  engine::Connection conn_{db_};
};

// `- - 1` is 1: the two minus signs must not become SQL's `--` comment.
TEST_F(Eval, DoubleNegationIsNotAComment) {
  EXPECT_EQ(MustParse("RowCount = - - 4").condition->operands[0].sql, "- -4");
  Expect("RowCount = - - 4", "pass");
  Expect("RowCount = - - - -4", "pass");
  Expect("RowCount = -(-4)", "pass");
  Expect("RowCount = - -(4)", "pass");
  Expect(R"(ColumnValues "id" between - - 1 and - - 4)", "pass");
}

TEST_F(Eval, EveryRuleTypePassesAndFails) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"RowCount = 4", "pass"},
      {"RowCount > 4", "fail"},
      {"ColumnCount = 5", "pass"},
      {"ColumnCount < 5", "fail"},
      {R"(ColumnExists "id")", "pass"},
      {R"(ColumnExists "nope")", "fail"},
      {R"(ColumnDataType "id" = "INTEGER")", "pass"},
      {R"(ColumnDataType "s" = "INT")", "fail"},
      {R"(ColumnDataType "s" in ["STRING", "DATE"])", "pass"},
      {R"(ColumnNamesMatchPattern "[a-z]+")", "pass"},
      {R"(ColumnNamesMatchPattern "[a-z]{1,2}")", "fail"},
      {R"(IsComplete "id")", "pass"},
      {R"(IsComplete "s")", "fail"},
      {R"(Completeness "s" >= 0.75)", "pass"},
      {R"(Completeness "s" > 0.8)", "fail"},
      {R"(IsUnique "s")", "pass"},
      {R"(IsUnique "id")", "fail"},
      {R"(IsUnique "id" where "x > 15")", "fail"},
      {R"(IsUnique "id" where "x < 25")", "pass"},
      {R"(Uniqueness "id" = 0.5)", "pass"},
      {R"(Uniqueness "id" > 0.5)", "fail"},
      {R"(UniqueValueRatio "id" between 0.6 and 0.7)", "pass"},
      {R"(UniqueValueRatio "id" = 1)", "fail"},
      {R"(IsPrimaryKey "country" "id")", "pass"},
      {R"(IsPrimaryKey "id")", "fail"},
      {R"(DistinctValuesCount "id" = 3)", "pass"},
      {R"(DistinctValuesCount "id" > 3)", "fail"},
      {R"(ColumnValues "id" between 1 and 4)", "pass"},
      {R"(ColumnValues "id" < 4)", "fail"},
      {R"(ColumnValues "country" in ["DE", "FR"])", "pass"},
      {R"(ColumnValues "country" not in ["FR"])", "fail"},
      {R"(ColumnValues "s" matches "[a-d]+")", "pass"},
      {R"(ColumnValues "s" matches "[a-c]+")", "fail"},
      {R"(ColumnValues "d" > "2025-12-31")", "pass"},
      {R"(ColumnValues "d" > (now() - 3 days))", "fail"},
      {R"(ColumnLength "s" <= 4)", "pass"},
      {R"(ColumnLength "s" between 1 and 2)", "fail"},
      {R"(Mean "x" = 20)", "pass"},
      {R"(Mean "x" > 20)", "fail"},
      {R"(Sum "x" = 60)", "pass"},
      {R"(Sum "x" < 60)", "fail"},
      {R"(StandardDeviation "x" = 10)", "pass"},
      {R"(StandardDeviation "x" < 1)", "fail"},
      {R"(Entropy "country" = 1)", "pass"},
      {R"(Entropy "country" > 1)", "fail"},
      {R"(ColumnCorrelation "id" "x" > 0.8)", "pass"},
      {R"(ColumnCorrelation "id" "x" < 0)", "fail"},
      {R"(DataFreshness "d" <= 100000 days)", "pass"},
      {R"(DataFreshness "d" <= 24 hours)", "fail"},
      {R"(CustomSql "SELECT count(*) FROM primary WHERE x > 15" = 2)", "pass"},
      {R"(CustomSql "SELECT max(id) FROM primary" > 4)", "fail"},
      {R"(ReferentialIntegrity "id" "ref.id" >= 0.75)", "pass"},
      {R"(ReferentialIntegrity "id" "ref.id" = 1.0)", "fail"},
      {R"(RowCountMatch "same" = 1.0)", "pass"},
      {R"(RowCountMatch "ref" = 1.0)", "fail"},
      {R"(SchemaMatch "same" = 1.0)", "pass"},
      {R"(SchemaMatch "ref" = 1.0)", "fail"},
      {R"q(AggregateMatch "sum(id)" "sum(main.same.id)" = 1.0)q", "pass"},
      {R"q(AggregateMatch "sum(id)" "sum(main.ref.id)" = 1.0)q", "fail"},
      {R"(DatasetMatch "same" "id->id,country" = 1.0)", "pass"},
      {R"(DatasetMatch "ref" "id" = 1.0)", "fail"},
  };
  for (const auto& [text, outcome] : cases) Expect(text, outcome);
}

// A failing rule's message says what was observed, whatever its type.
TEST_F(Eval, AFailureSaysWhatWasObserved) {
  EXPECT_EQ(One(R"(ColumnExists "nope")").message, "column nope is missing");
  EXPECT_EQ(One("RowCount > 4").message, "observed 4");
  EXPECT_EQ(One(R"((IsComplete "s") and (RowCount > 4))").message,
            "observed fail (1 null); fail (4)");
  EXPECT_EQ(One(R"(ColumnExists "id")").message, "");
}

TEST_F(Eval, CompositesWhereAndThresholds) {
  Expect(R"((IsComplete "id") and (ColumnValues "id" > 0))", "pass");
  Expect(R"((IsComplete "s") and (ColumnValues "id" > 0))", "fail");
  Expect(R"((IsComplete "s") or (ColumnValues "id" > 0))", "pass");
  Expect(R"(IsComplete "s" where "country = 'FR'")", "pass");
  Expect(R"(RowCount = 2 where "country = 'DE'")", "pass");
  Expect(R"(ColumnValues "id" <= 2 with threshold >= 0.75)", "pass");
  Expect(R"(ColumnValues "id" <= 2 with threshold > 0.75)", "fail");
  Expect(R"(ColumnValues "id" <= 2 with threshold > 0.6 where "country = 'DE'")", "pass");
  Expect(R"(ColumnValues "id" <= 1 where "country = 'DE'" with threshold >= 0.5)", "pass");
  auto r = One(R"(ColumnValues "id" < 2)");
  EXPECT_EQ(r.failing_rows, 3);
  EXPECT_EQ(r.observed, "3 outside");
  r = One("RowCount = 4");
  EXPECT_EQ(r.value, 4);
  EXPECT_EQ(r.threshold, "= 4");
}

TEST_F(Eval, NullsInListsBackslashesNegativesAndDecimalTypes) {
  Expect(R"(ColumnValues "country" in ["XX", NULL])", "fail");
  Expect(R"(ColumnValues "country" in ["DE", "FR", NULL])", "pass");
  Expect(R"(ColumnValues "s" matches "\w+")", "pass");
  Expect(R"(ColumnValues "s" matches "\d+")", "fail");
  Expect(R"(ColumnValues "id" in [-1, 1, 2, 4])", "pass");
  Expect(R"(ColumnDataType "x" = "DECIMAL")", "pass");
  ParseError error;
  EXPECT_FALSE(Parse("RowCount > avg(last(0))", error));
  EXPECT_FALSE(Parse("RowCount > avg(last(99999999999))", error));
  EXPECT_NE(error.message.find("from 1 to 1000"), std::string::npos);
}

TEST_F(Eval, ARuleFailingOnlyWhenRunAloneKeepsTheOthersInPlace) {
  auto results =
      Evaluate(conn_, "t", "t",
               {MustParse(R"(CustomSql "SELECT nope FROM primary" > 0)"), MustParse("RowCount > 0"),
                MustParse(R"(IsComplete "s")"), MustParse("RowCount < 0")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, "error");
  EXPECT_EQ(results[1].outcome, "pass");
  EXPECT_EQ(results[2].outcome, "fail");
  EXPECT_EQ(results[3].outcome, "fail");
}

TEST_F(Eval, DynamicThresholdsUseTheRulesHistory) {
  std::vector<double> seen;
  History history = [&](const std::string& rule, size_t n) {
    EXPECT_EQ(rule, "RowCount > avg(last(3)) * 0.8");
    EXPECT_EQ(n, 3u);
    return seen;
  };
  auto r = One("RowCount > avg(last(3)) * 0.8", history);
  EXPECT_EQ(r.outcome, "pass");  // no history yet: nothing to compare with
  EXPECT_NE(r.message.find("no earlier results"), std::string::npos);
  seen = {4, 5, 6};  // avg 5 * 0.8 = 4: 4 > 4 fails
  EXPECT_EQ(One("RowCount > avg(last(3)) * 0.8", history).outcome, "fail");
  seen = {4, 4, 4};
  r = One("RowCount > avg(last(3)) * 0.8", history);
  EXPECT_EQ(r.outcome, "pass");
  EXPECT_NE(r.message.find("avg(last(3)) = 4"), std::string::npos);
}

// The facts are taken as given: these say what the rows do not, to show which figures come from
// them (tests/cases/footer_facts checks real footers against every row).
TEST_F(Eval, FooterFactsSettleRulesWithoutReadingTheColumn) {
  TableFacts facts;
  facts["s"].nulls = 7;  // the rows have 1
  facts["x"].nulls = 1;
  facts["id"].nulls = 0;
  facts["id"].min = "CAST(1 AS INTEGER)";
  facts["id"].max = "CAST(3 AS INTEGER)";  // the rows go up to 4
  std::vector<Rule> rules;
  for (const char* text :
       {R"(IsComplete "s")", R"(IsComplete "s" where "id > 1")", R"(IsComplete "id" where "x > 0")",
        R"(Completeness "x" > 0.5)", R"(ColumnValues "id" <= 3)", R"(ColumnValues "id" < 3)",
        R"(ColumnValues "id" between 1 and 3 with threshold > 0.9)",
        R"(ColumnValues "id" in [1, 2, 3])", R"(ColumnValues "id" <= 3 where "id > 0")",
        R"(IsComplete "id" where "no_such_column > 1")",
        R"(ColumnValues "id" > 0 where "no_such_column > 1")"}) {
    rules.push_back(MustParse(text));
  }
  auto r = Evaluate(conn_, "t", "t", rules, nullptr, facts);
  ASSERT_EQ(r.size(), rules.size());
  EXPECT_EQ(r[0].failing_rows, 7);    // the NULL count
  EXPECT_EQ(r[1].failing_rows, 1);    // a where filter must run: read
  EXPECT_EQ(r[2].failing_rows, 0);    // read too
  EXPECT_EQ(r[3].observed, "0.75");   // (4 rows - 1 NULL) / 4
  EXPECT_EQ(r[4].failing_rows, 0);    // 1 and 3 are <= 3: so is everything between
  EXPECT_EQ(r[5].failing_rows, 1);    // 3 is not < 3: read (the row with 4)
  EXPECT_EQ(r[6].observed, "1.0");    // settled: no row outside
  EXPECT_EQ(r[7].failing_rows, 1);    // a list is not a range: read
  EXPECT_EQ(r[8].failing_rows, 1);    // with a where filter: read (the row with 4)
  EXPECT_EQ(r[9].outcome, "error");   // a filter that does not bind is the rule's error,
  EXPECT_EQ(r[10].outcome, "error");  // whatever the facts say
  for (size_t i = 0; i < 9; ++i) EXPECT_NE(r[i].outcome, "error") << r[i].rule << r[i].message;
}

TEST_F(Eval, ARuleThatCannotBeEvaluatedIsAnErrorAndTheOthersStillCount) {
  auto results = Evaluate(conn_, "t", "t",
                          {MustParse(R"(IsComplete "nope")"), MustParse("RowCount = 4"),
                           MustParse(R"(CustomSql "SELECT broken FROM primary" > 0)"),
                           MustParse(R"(IsComplete "id" where "no_such_column > 1")")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, "error");
  EXPECT_NE(results[0].message.find("does not exist"), std::string::npos);
  EXPECT_EQ(results[1].outcome, "pass");
  EXPECT_EQ(results[2].outcome, "error");
  EXPECT_EQ(results[3].outcome, "error");
}

TEST_F(Eval, RowLevelPassSqlFlagsTheRowsThatBreakTheRule) {
  auto rule = MustParse(R"((ColumnValues "id" < 4 where "x > 0") and (ColumnLength "s" <= 2))");
  auto res = conn_.Query("SELECT count(*) FILTER (WHERE NOT " + rule.PassSql() + ") FROM t");
  EXPECT_EQ(res.GetInt(0, 0), 1);  // 4/'dddd': x NULL keeps it from the first, not the second
  rule = MustParse(R"(ColumnValues "id" < 4 where "s IS NOT NULL")");
  auto res2 = conn_.Query("SELECT count(*) FILTER (WHERE NOT " + rule.PassSql() + ") FROM t");
  EXPECT_EQ(res2.GetInt(0, 0), 1);
}

// -- differential test: the one-pass evaluator against a naive, row-by-row one ----------------

struct Row {
  std::optional<int64_t> a;
  std::optional<std::string> b;
};

// The naive evaluator: each rule judged on its own, in plain C++ over the rows.
std::string Naive(const std::string& type, const std::string& col, const std::string& op, double v,
                  const std::vector<Row>& rows) {
  auto cmp = [&](double x) {
    if (op == ">") return x > v;
    if (op == "<") return x < v;
    if (op == ">=") return x >= v;
    if (op == "<=") return x <= v;
    return std::fabs(x - v) < 1e-9;
  };
  std::vector<std::optional<std::string>> values;
  for (const auto& r : rows) {
    values.push_back(
        col == "a" ? (r.a ? std::optional<std::string>(std::to_string(*r.a)) : std::nullopt) : r.b);
  }
  size_t n = values.size(), nonnull = 0;
  std::map<std::string, int> counts;
  for (const auto& x : values) {
    if (x) {
      ++nonnull;
      ++counts[*x];
    }
  }
  auto pass = [](bool ok) { return std::string(ok ? "pass" : "fail"); };
  if (type == "RowCount") return pass(cmp(static_cast<double>(n)));
  if (type == "IsComplete") return pass(nonnull == n);
  if (type == "Completeness") return pass(cmp(n ? static_cast<double>(nonnull) / n : 1.0));
  if (type == "IsUnique") {
    return pass(std::all_of(counts.begin(), counts.end(), [](auto& c) { return c.second == 1; }));
  }
  if (type == "DistinctValuesCount") return pass(cmp(static_cast<double>(counts.size())));
  size_t once = std::count_if(counts.begin(), counts.end(), [](auto& c) { return c.second == 1; });
  if (type == "Uniqueness") return pass(cmp(n ? static_cast<double>(once) / n : 1.0));
  if (type == "UniqueValueRatio") {
    return pass(cmp(counts.empty() ? 1.0 : static_cast<double>(once) / counts.size()));
  }
  if (type == "ColumnValues" || type == "ColumnLength") {
    for (const auto& x : values) {
      if (!x) continue;
      double value = type == "ColumnLength" ? static_cast<double>(x->size()) : std::stod(*x);
      if (!cmp(value)) return "fail";
    }
    return "pass";
  }
  if (type == "Sum" || type == "Mean") {
    if (!nonnull) return "fail";  // NULL: nothing to judge
    double sum = 0;
    for (const auto& x : values) {
      if (x) sum += std::stod(*x);
    }
    return pass(cmp(type == "Sum" ? sum : sum / nonnull));
  }
  return "?";
}

TEST(RulesDifferential, OnePassAgreesWithANaiveEvaluatorOnRandomTables) {
  std::mt19937_64 rng(20261122);
  const std::vector<std::string> ops = {">", "<", ">=", "<=", "="};
  const std::vector<std::pair<std::string, std::string>> kinds = {{"RowCount", ""},
                                                                  {"IsComplete", "a"},
                                                                  {"IsComplete", "b"},
                                                                  {"Completeness", "a"},
                                                                  {"IsUnique", "a"},
                                                                  {"IsUnique", "b"},
                                                                  {"DistinctValuesCount", "b"},
                                                                  {"Uniqueness", "a"},
                                                                  {"UniqueValueRatio", "b"},
                                                                  {"ColumnValues", "a"},
                                                                  {"ColumnLength", "b"},
                                                                  {"Sum", "a"},
                                                                  {"Mean", "a"}};
  int compared = 0;
  for (int table = 0; table < 40; ++table) {
    engine::Database db;
    engine::Connection conn(db);
    std::vector<Row> rows(rng() % 12);
    std::vector<std::string> sql_rows;
    for (auto& r : rows) {
      if (rng() % 5) r.a = static_cast<int64_t>(rng() % 6);
      if (rng() % 4) r.b = std::string(1 + rng() % 3, static_cast<char>('a' + rng() % 3));
      sql_rows.push_back(fmt::format("({}, {})", r.a ? std::to_string(*r.a) : "NULL",
                                     r.b ? "'" + *r.b + "'" : "NULL"));
    }
    conn.Execute("CREATE TABLE t (a BIGINT, b VARCHAR)");
    if (!sql_rows.empty()) conn.Execute("INSERT INTO t VALUES " + Join(sql_rows, ", "));
    std::vector<Rule> rules;
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
      const auto& [type, col] = kinds[rng() % kinds.size()];
      std::string op = ops[rng() % ops.size()];
      double v = type == "Completeness" || type == "Uniqueness" || type == "UniqueValueRatio"
                     ? static_cast<double>(rng() % 5) / 4.0
                     : static_cast<double>(rng() % 8);
      std::string text = type;
      if (!col.empty()) text += " \"" + col + "\"";
      bool has_condition = type != "IsComplete" && type != "IsUnique";
      if (has_condition) text += fmt::format(" {} {}", op, v);
      rules.push_back(MustParse(text));
      expected.push_back(Naive(type, col, has_condition ? op : "", v, rows));
    }
    auto results = Evaluate(conn, "t", "t", rules);
    ASSERT_EQ(results.size(), rules.size());
    for (size_t i = 0; i < rules.size(); ++i) {
      EXPECT_EQ(results[i].outcome, expected[i])
          << rules[i].text << " on " << Join(sql_rows, " ") << " observed " << results[i].observed;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 800);
}

}  // namespace
}  // namespace sluice::quality
