#include "quality/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "common/strings.h"
#include "quality/rules.h"

namespace sluice::quality {
namespace {

using Values = std::vector<std::string>;

std::vector<std::pair<std::string, int64_t>> Top(const ColumnProfile& c) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& v : c.top_values) out.emplace_back(v.value, v.count);
  return out;
}

const ColumnProfile& Column(const TableProfile& p, const std::string& name) {
  for (const auto& c : p.columns) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no column " << name;
  static ColumnProfile none;
  return none;
}

// The suggested rules parse as DQDL and pass on the data they were suggested from.
void ExpectRulesPass(engine::Connection& conn, const std::string& relation,
                     const std::string& rules_text) {
  ParseError error;
  auto rules = ParseRuleSet(rules_text, error);
  ASSERT_TRUE(rules) << error.message << " at " << error.offset << " in\n" << rules_text;
  EXPECT_FALSE(rules->empty());
  for (const auto& result : Evaluate(conn, relation, relation, *rules)) {
    EXPECT_EQ(result.outcome, "pass") << result.rule << ": " << result.message;
  }
}

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn_.Execute(R"(
      CREATE TABLE t AS SELECT * FROM (VALUES
        (1, 'DE', 10.50::DECIMAL(6,2), DATE '2024-01-03', TIMESTAMP '2024-01-03 10:00:00', true,
         'ä', 'a', NULL::INTEGER),
        (2, 'FR', 20.00, DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', false, NULL, 'b',
         NULL),
        (3, 'DE', 10.50, DATE '2024-02-10', TIMESTAMP '2024-02-10 23:59:59', true, 'Zürich', 'a',
         NULL),
        (4, 'US', -5.25, DATE '2024-01-01', NULL, NULL, NULL, 'a', NULL),
        (5, 'DE', 7.00, NULL, TIMESTAMP '2024-01-01 00:00:00', true, '日本語', NULL, NULL),
        (6, 'FR', 10.50, DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', false, 'x"y\z', 'b',
         NULL)
      ) v(id, country, amount, day, ts, paid, note, "we""ird col", nothing))");
  }

  engine::Database db_;
  engine::Connection conn_{db_};
};

TEST_F(ProfileTest, EveryStatistic) {
  TableProfile p = Profile(conn_, "t");
  EXPECT_EQ(p.relation, "t");
  EXPECT_EQ(p.rows, 6);
  ASSERT_EQ(p.columns.size(), 9u);
  Values names, types;
  for (const auto& c : p.columns) {
    names.push_back(c.name);
    types.push_back(c.type);
    EXPECT_EQ(c.rows, 6) << c.name;
  }
  EXPECT_EQ(names, (Values{"id", "country", "amount", "day", "ts", "paid", "note", "we\"ird col",
                           "nothing"}));
  EXPECT_EQ(types, (Values{"INTEGER", "VARCHAR", "DECIMAL(6,2)", "DATE", "TIMESTAMP", "BOOLEAN",
                           "VARCHAR", "VARCHAR", "INTEGER"}));

  const auto& id = Column(p, "id");
  EXPECT_EQ(id.nulls, 0);
  EXPECT_EQ(id.distinct, 6);
  EXPECT_EQ(id.min, "1");
  EXPECT_EQ(id.max, "6");
  EXPECT_DOUBLE_EQ(*id.mean, 3.5);
  EXPECT_NEAR(*id.stddev, std::sqrt(3.5), 1e-12);  // sample stddev of 1..6
  EXPECT_FALSE(id.min_length);
  EXPECT_EQ(Top(id), (decltype(Top(id)){{"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}}));
  EXPECT_EQ(id.values, (Values{"1", "2", "3", "4", "5", "6"}));

  const auto& country = Column(p, "country");
  EXPECT_EQ(country.nulls, 0);
  EXPECT_EQ(country.distinct, 3);
  EXPECT_EQ(country.min, "DE");
  EXPECT_EQ(country.max, "US");
  EXPECT_EQ(country.min_length, 2);
  EXPECT_EQ(country.max_length, 2);
  EXPECT_FALSE(country.mean);
  EXPECT_FALSE(country.stddev);
  EXPECT_EQ(Top(country), (decltype(Top(country)){{"DE", 3}, {"FR", 2}, {"US", 1}}));
  EXPECT_EQ(country.values, (Values{"DE", "FR", "US"}));

  // Ties are broken in the column's own order: -5.25 < 7.00 < 20.00 (not as text).
  const auto& amount = Column(p, "amount");
  EXPECT_EQ(amount.nulls, 0);
  EXPECT_EQ(amount.distinct, 4);
  EXPECT_EQ(amount.min, "-5.25");
  EXPECT_EQ(amount.max, "20.00");
  EXPECT_NEAR(*amount.mean, 8.875, 1e-12);
  EXPECT_NEAR(*amount.stddev, std::sqrt(334.71875 / 5), 1e-9);
  EXPECT_EQ(Top(amount),
            (decltype(Top(amount)){{"10.50", 3}, {"-5.25", 1}, {"7.00", 1}, {"20.00", 1}}));
  EXPECT_EQ(amount.values, (Values{"-5.25", "7.00", "10.50", "20.00"}));

  const auto& day = Column(p, "day");
  EXPECT_EQ(day.nulls, 1);
  EXPECT_EQ(day.distinct, 3);
  EXPECT_EQ(day.min, "2024-01-01");
  EXPECT_EQ(day.max, "2024-02-10");
  EXPECT_FALSE(day.mean);
  EXPECT_FALSE(day.min_length);
  EXPECT_EQ(Top(day),
            (decltype(Top(day)){{"2024-01-01", 3}, {"2024-01-03", 1}, {"2024-02-10", 1}}));

  const auto& ts = Column(p, "ts");
  EXPECT_EQ(ts.nulls, 1);
  EXPECT_EQ(ts.distinct, 3);
  EXPECT_EQ(ts.min, "2024-01-01 00:00:00");
  EXPECT_EQ(ts.max, "2024-02-10 23:59:59");
  EXPECT_FALSE(ts.mean);
  EXPECT_EQ(Top(ts).front(), (std::pair<std::string, int64_t>{"2024-01-01 00:00:00", 3}));

  const auto& paid = Column(p, "paid");
  EXPECT_EQ(paid.nulls, 1);
  EXPECT_EQ(paid.distinct, 2);
  EXPECT_EQ(paid.min, "false");
  EXPECT_EQ(paid.max, "true");
  EXPECT_FALSE(paid.mean);
  EXPECT_FALSE(paid.stddev);
  EXPECT_EQ(Top(paid), (decltype(Top(paid)){{"true", 3}, {"false", 2}}));

  // Non-ASCII text: byte (code point) order, lengths in characters.
  const auto& note = Column(p, "note");
  EXPECT_EQ(note.nulls, 2);
  EXPECT_EQ(note.distinct, 4);
  EXPECT_EQ(note.min, "Zürich");
  EXPECT_EQ(note.max, "日本語");
  EXPECT_EQ(note.min_length, 1);
  EXPECT_EQ(note.max_length, 6);
  EXPECT_EQ(Top(note),
            (decltype(Top(note)){{"Zürich", 1}, {"x\"y\\z", 1}, {"ä", 1}, {"日本語", 1}}));

  const auto& weird = Column(p, "we\"ird col");
  EXPECT_EQ(weird.nulls, 1);
  EXPECT_EQ(weird.distinct, 2);
  EXPECT_EQ(Top(weird), (decltype(Top(weird)){{"a", 3}, {"b", 2}}));

  const auto& nothing = Column(p, "nothing");
  EXPECT_EQ(nothing.nulls, 6);
  EXPECT_EQ(nothing.distinct, 0);
  EXPECT_FALSE(nothing.min);
  EXPECT_FALSE(nothing.max);
  EXPECT_FALSE(nothing.mean);
  EXPECT_FALSE(nothing.stddev);
  EXPECT_TRUE(nothing.top_values.empty());
  EXPECT_TRUE(nothing.values.empty());

  ExpectRulesPass(conn_, "t", SuggestRules("t", p));
}

void ExpectSameProfile(const TableProfile& a, const TableProfile& b) {
  EXPECT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const auto &x = a.columns[i], &y = b.columns[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.nulls, y.nulls);
    EXPECT_EQ(x.distinct, y.distinct);
    EXPECT_EQ(x.min, y.min);
    EXPECT_EQ(x.max, y.max);
    EXPECT_EQ(x.mean.has_value(), y.mean.has_value());
    if (x.mean && y.mean) {
      EXPECT_NEAR(*x.mean, *y.mean, 1e-9);
    }
    EXPECT_EQ(x.min_length, y.min_length);
    EXPECT_EQ(x.max_length, y.max_length);
    EXPECT_EQ(Top(x), Top(y));
    EXPECT_EQ(x.values, y.values);
  }
}

TEST_F(ProfileTest, BothPlansAgree) {
  ExpectSameProfile(Profile(conn_, "t", TopValuesPlan::kPerColumn),
                    Profile(conn_, "t", TopValuesPlan::kSingleScan));
}

TEST_F(ProfileTest, ChoosesThePlanBySource) {
  EXPECT_EQ(ChooseTopValuesPlan(conn_, "t"), TopValuesPlan::kPerColumn);
  EXPECT_EQ(ChooseTopValuesPlan(conn_, "(SELECT id, note FROM t WHERE id > 2)"),
            TopValuesPlan::kPerColumn);
  EXPECT_EQ(ChooseTopValuesPlan(conn_, "(SELECT * FROM t JOIN t AS u USING (id))"),
            TopValuesPlan::kSingleScan);

  auto dir = std::filesystem::temp_directory_path() /
             ("sluice_profile_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string csv = (dir / "t.csv").string(), parquet = (dir / "t.parquet").string();
  conn_.Execute("COPY t TO " + SqlString(csv) + " (HEADER)");
  conn_.Execute("COPY t TO " + SqlString(parquet) + " (FORMAT parquet)");
  conn_.Execute("CREATE VIEW from_csv AS SELECT * FROM read_csv(" + SqlString(csv) + ")");
  conn_.Execute("CREATE VIEW from_parquet AS SELECT * FROM read_parquet(" + SqlString(parquet) +
                ")");
  EXPECT_EQ(ChooseTopValuesPlan(conn_, "from_csv"), TopValuesPlan::kSingleScan);
  EXPECT_EQ(ChooseTopValuesPlan(conn_, "from_parquet"), TopValuesPlan::kPerColumn);
  ExpectSameProfile(Profile(conn_, "t"), Profile(conn_, "from_parquet"));
  EXPECT_EQ(Column(Profile(conn_, "from_csv"), "country").top_values.size(), 3u);
  std::filesystem::remove_all(dir);
}

TEST_F(ProfileTest, ParenthesizedQuery) {
  TableProfile p = Profile(conn_, "(SELECT id, country FROM t WHERE id > 2)");
  EXPECT_EQ(p.rows, 4);
  ASSERT_EQ(p.columns.size(), 2u);
  EXPECT_EQ(p.columns[0].min, "3");
  EXPECT_EQ(Top(p.columns[1]), (decltype(Top(p.columns[1])){{"DE", 2}, {"FR", 1}, {"US", 1}}));
}

TEST(Profile, EmptyTable) {
  engine::Database db;
  engine::Connection conn(db);
  conn.Execute("CREATE TABLE e (a INTEGER, b VARCHAR)");
  TableProfile p = Profile(conn, "e");
  EXPECT_EQ(p.rows, 0);
  ASSERT_EQ(p.columns.size(), 2u);
  for (const auto& c : p.columns) {
    EXPECT_EQ(c.rows, 0);
    EXPECT_EQ(c.nulls, 0);
    EXPECT_EQ(c.distinct, 0);
    EXPECT_FALSE(c.min);
    EXPECT_FALSE(c.max);
    EXPECT_FALSE(c.mean);
    EXPECT_FALSE(c.stddev);
    EXPECT_FALSE(c.min_length);
    EXPECT_TRUE(c.top_values.empty());
  }
  std::string rules = SuggestRules("bronze.e", p);
  EXPECT_EQ(rules.substr(rules.find('\n') + 1), "Rules = [\n  RowCount between 0 and 0\n]\n");
  ExpectRulesPass(conn, "e", rules);
}

TEST(Profile, LargeDistinctCounts) {
  engine::Database db;
  engine::Connection conn(db);
  conn.Execute(
      "CREATE TABLE big AS SELECT i AS id, i % 3 AS m, 'k' || (i % 1000) AS k "
      "FROM range(100000) r(i)");
  for (auto plan : {TopValuesPlan::kPerColumn, TopValuesPlan::kSingleScan}) {
    TableProfile p = Profile(conn, "big", plan);
    EXPECT_EQ(p.rows, 100000);
    EXPECT_EQ(p.columns[0].distinct, 100000);
    EXPECT_EQ(Top(p.columns[0]),
              (decltype(Top(p.columns[0])){{"0", 1}, {"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}}));
    EXPECT_TRUE(p.columns[0].values.empty());
    EXPECT_NEAR(*p.columns[0].mean, 49999.5, 1e-9);
    EXPECT_EQ(p.columns[1].distinct, 3);
    EXPECT_EQ(Top(p.columns[1]),
              (decltype(Top(p.columns[1])){{"0", 33334}, {"1", 33333}, {"2", 33333}}));
    EXPECT_EQ(p.columns[2].distinct, 1000);
    EXPECT_EQ(p.columns[2].min_length, 2);
    EXPECT_EQ(p.columns[2].max_length, 4);
    EXPECT_EQ(Top(p.columns[2]).front(), (std::pair<std::string, int64_t>{"k0", 100}));
    ExpectRulesPass(conn, "big", SuggestRules("big", p));
  }
}

TEST(Profile, OtherTypes) {
  engine::Database db;
  engine::Connection conn(db);
  conn.Execute(R"(
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE n AS SELECT [i % 2, 1] AS l, {'a': i % 2} AS s, MAP {'k': i % 2} AS m,
      INTERVAL (i % 3) DAY AS iv, ('a' || (i % 2))::BLOB AS b,
      (['sad', 'ok', 'happy'][1 + i % 3])::mood AS e, 12345678901234567890123::HUGEINT * i AS hi,
      i::FLOAT / 4 AS f
    FROM range(5) r(i))");
  TableProfile p = Profile(conn, "n");
  ExpectSameProfile(p, Profile(conn, "n", TopValuesPlan::kSingleScan));
  const auto& l = Column(p, "l");
  EXPECT_EQ(l.type, "BIGINT[]");
  EXPECT_EQ(l.distinct, 2);
  EXPECT_FALSE(l.min);  // no min/max for nested values
  EXPECT_EQ(Top(l), (decltype(Top(l)){{"[0, 1]", 3}, {"[1, 1]", 2}}));
  EXPECT_EQ(Top(Column(p, "s")).front(), (std::pair<std::string, int64_t>{"{'a': 0}", 3}));
  EXPECT_EQ(Column(p, "m").distinct, 2);
  EXPECT_EQ(Column(p, "iv").max, "2 days");
  EXPECT_FALSE(Column(p, "iv").mean);
  EXPECT_EQ(Column(p, "b").min, "a0");
  // An enum is text in its own order.
  const auto& e = Column(p, "e");
  EXPECT_EQ(e.min, "sad");
  EXPECT_EQ(e.max, "happy");
  EXPECT_EQ(e.min_length, 2);
  EXPECT_EQ(e.max_length, 5);
  EXPECT_EQ(e.values, (Values{"sad", "ok", "happy"}));
  EXPECT_EQ(Column(p, "hi").max, "49382715604938271560492");
  EXPECT_NEAR(*Column(p, "hi").mean, 2.4691357802469135e22, 1e8);
  EXPECT_EQ(Column(p, "f").max, "1.0");
  EXPECT_DOUBLE_EQ(*Column(p, "f").mean, 0.5);
  ExpectRulesPass(conn, "n", SuggestRules("n", p));
}

// Everything after the comment line, which holds today's date.
std::string AfterComment(const std::string& rules, const std::string& comment_prefix) {
  size_t eol = rules.find('\n');
  std::string first = rules.substr(0, eol);
  EXPECT_TRUE(std::regex_match(first, std::regex(R"(# from a profile of .* on \d{4}-\d\d-\d\d)")))
      << first;
  EXPECT_TRUE(StartsWith(first, comment_prefix)) << first;
  return rules.substr(eol + 1);
}

TEST(SuggestRules, FromAKnownTable) {
  engine::Database db;
  engine::Connection conn(db);
  conn.Execute(R"(
    CREATE TABLE orders AS SELECT * FROM (VALUES
      (1,  'DE',    10.50::DECIMAL(8,2), 'AB-1',   'ann@example.com',  DATE '2024-01-01', 0.5,
       true,  NULL::INTEGER),
      (2,  'DE',    99.99, 'AB-12',  'bob.b@example.org', DATE '2024-01-01', 1e-7,   false, NULL),
      (3,  'FR',    -1.50, 'AB-123', NULL,                DATE '2024-01-02', 2.5e20, true,  NULL),
      (4,  'DE',    NULL,  'AB-2',   'cy@example.com',    DATE '2024-01-02', NULL,   true,  NULL),
      (5,  'a"b\c', 3.00,  'AB-22',  'd@example.net',     DATE '2024-01-03', 3.0,    true,  NULL),
      (6,  'FR',    4.00,  'AB-222', NULL,                DATE '2024-01-03', NULL,   false, NULL),
      (7,  'DE',    5.00,  'AB-3',   'eve@example.com',   DATE '2024-01-03', 4.0,    true,  NULL),
      (8,  'a"b\c', 6.00,  'AB-33',  'fay@example.com',   DATE '2024-01-04', NULL,   true,  NULL),
      (9,  'FR',    7.00,  'AB-333', NULL,                DATE '2024-01-04', 5.0,    true,  NULL),
      (10, 'DE',    8.00,  'AB-4',   'gus@example.com',   DATE '2024-01-04', 6.0,    false, NULL)
    ) v(id, country, amount, code, "e-mail address", day, ratio, flag, nothing))");
  TableProfile p = Profile(conn, "orders");
  std::string rules = SuggestRules("shop.orders", p);
  ExpectRulesPass(conn, "orders", rules);
  EXPECT_EQ(AfterComment(rules, "# from a profile of 10 rows of shop.orders on "),
            R"(Rules = [
  RowCount between 8 and 12,
  IsComplete "id",
  IsUnique "id",
  ColumnValues "id" between 1 and 10,
  IsComplete "country",
  ColumnValues "country" in ["DE", "FR", "a\"b\\c"],
  Completeness "amount" >= 0.9,
  ColumnValues "amount" between -1.50 and 99.99,
  IsComplete "code",
  IsUnique "code",
  ColumnLength "code" between 4 and 6,
  Completeness "e-mail address" >= 0.7,
  IsComplete "day",
  Completeness "ratio" >= 0.7,
  ColumnValues "ratio" between 0 and 250000000000000000000,
  IsComplete "flag"
]
)");
}

TEST(SuggestRules, RoundingAndThresholds) {
  TableProfile p;
  p.rows = 1234567;
  ColumnProfile a;
  a.name = "a";
  a.type = "VARCHAR";
  a.rows = p.rows;
  a.nulls = 5000;  // 99.59% complete: rounded down
  a.distinct = 3;
  a.values = {"x", "y", "z"};
  a.min_length = a.max_length = 1;
  ColumnProfile b = a;
  b.name = "b";
  b.nulls = p.rows - 1000;  // 0.08%: too few values to ask for
  b.values.clear();
  b.distinct = 900;
  b.min_length = 3;
  b.max_length = 5;
  ColumnProfile c = a;
  c.name = "c";
  c.type = "DOUBLE";
  c.nulls = 0;
  c.distinct = p.rows;
  c.values.clear();
  c.min = "-inf";
  c.max = "1.5";
  ColumnProfile d = a;
  d.name = "d\\x";
  d.nulls = 0;
  d.distinct = 2;
  d.values = {"a\nb", "c"};  // a line break: no `in` rule
  d.min_length = 1;
  d.max_length = 3;
  p.columns = {a, b, c, d};
  EXPECT_EQ(AfterComment(SuggestRules("t", p), "# from a profile of 1234567 rows of t on "),
            R"(Rules = [
  RowCount between 980000 and 1500000,
  Completeness "a" >= 0.99,
  ColumnValues "a" in ["x", "y", "z"],
  ColumnLength "b" between 3 and 5,
  IsComplete "c",
  IsUnique "c",
  IsComplete "d\\x",
  ColumnLength "d\\x" between 1 and 3
]
)");
}

}  // namespace
}  // namespace sluice::quality
