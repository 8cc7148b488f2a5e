#include "engine/duplicates.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::engine {
namespace {

// The values of a test column, as SQL over `range(n) t(i)`; deterministic for a seed (hash()).
struct Shape {
  const char* name;
  std::string (*sql)(uint64_t seed, int64_t n, int64_t offset);
};

std::string R(uint64_t seed, int k) { return fmt::format("hash(i, {}, {})", seed, k); }

// A random 64-bit value (any BIGINT but INT64_MIN) for row `row`.
std::string Random64(uint64_t seed, const std::string& row) {
  return fmt::format("((hash({0}, {1}, 7) >> 1)::BIGINT - (hash({0}, {1}, 8) >> 1)::BIGINT)", row,
                     seed);
}

const Shape kShapes[] = {
    {"dense", [](uint64_t, int64_t, int64_t off) { return fmt::format("i + {}", off); }},
    {"dense shuffled",
     [](uint64_t, int64_t n, int64_t off) {
       // i -> i * p mod n is a permutation (p is a prime above any n here).
       return fmt::format("(i * 2654435761 % {}) + {}", std::max<int64_t>(n, 1), off);
     }},
    {"gaps and repeats",
     [](uint64_t seed, int64_t n, int64_t off) {
       return fmt::format("({} % {})::BIGINT + {}", R(seed, 1), n * 3 / 2 + 1, off);
     }},
    {"ids with gaps, some repeated",
     [](uint64_t seed, int64_t n, int64_t off) {
       return fmt::format(
           "CASE WHEN {0} % 10 = 0 THEN (({0} >> 8) % {1})::BIGINT * 3 ELSE i * 3 END + {2}",
           R(seed, 1), n + 1, off);
     }},
    {"descending negatives",
     [](uint64_t, int64_t, int64_t off) { return fmt::format("-i * 2 - {}", off); }},
    {"extremes",
     [](uint64_t seed, int64_t, int64_t off) {
       return fmt::format(
           "CASE {0} % 8 WHEN 0 THEN -9223372036854775808 WHEN 1 THEN 9223372036854775807 "
           "WHEN 2 THEN -9223372036854775808 + (({0} >> 3) % 5)::BIGINT "
           "WHEN 3 THEN 9223372036854775807 - (({0} >> 3) % 5)::BIGINT ELSE i + {1} END",
           R(seed, 1), off);
     }},
    {"sparse random", [](uint64_t seed, int64_t, int64_t) { return Random64(seed, "i"); }},
    {"sparse random, repeats",
     [](uint64_t seed, int64_t n, int64_t) {
       return Random64(seed, fmt::format("i % {}", n / 3 + 1));
     }},
    {"random 32-bit",
     [](uint64_t seed, int64_t, int64_t off) {
       return fmt::format("({} % 4294967296)::BIGINT + {}", R(seed, 1), off);
     }},
    {"one per 2^16 block",
     [](uint64_t seed, int64_t n, int64_t off) {
       return fmt::format("({} % {})::BIGINT * 65536 + {}", R(seed, 1), n + 1, off);
     }},
    {"dense, then sparse",
     [](uint64_t seed, int64_t n, int64_t off) {
       return fmt::format("CASE WHEN i < {} THEN i + {} ELSE {} END", n / 2, off,
                          Random64(seed, "i"));
     }},
    {"sparse, then dense",
     [](uint64_t seed, int64_t n, int64_t off) {
       return fmt::format("CASE WHEN i < {} THEN {} ELSE i + {} END", n / 20, Random64(seed, "i"),
                          off);
     }},
    {"dense, then one per block",
     [](uint64_t, int64_t n, int64_t off) {
       return fmt::format("CASE WHEN i < {0} THEN i ELSE i * 65536 END + {1}", n / 4, off);
     }},
    {"dense repeats, one in 20 sparse",
     [](uint64_t seed, int64_t, int64_t off) {
       return fmt::format("CASE WHEN i % 20 = 19 THEN {} ELSE i % 10000 + {} END",
                          Random64(seed, "i"), off);
     }},
    {"all NULL", [](uint64_t, int64_t, int64_t) { return std::string("NULL::BIGINT"); }},
};

// Where dense values sit: around 0, across 2^32, far negative, near the top.
const int64_t kOffsets[] = {0, -1000, (int64_t{1} << 32) - 70000, -(int64_t{1} << 40),
                            int64_t{1} << 62};

struct Pair {
  std::optional<std::string> ours, duckdb;
};

Pair Ask(Connection& conn, const std::string& sql) {
  auto r = conn.Query(sql);
  return {r.Get(0, 0), r.Get(1, 0)};
}

// Compares sluice_duplicates with DuckDB's count(x) - count(DISTINCT x) on table t (columns
// i, g, x): plain, and unless `plain_only` with FILTER and per group of g.
void ExpectSameAnswers(Connection& conn, const std::string& what, bool plain_only = false) {
  SCOPED_TRACE(what);
  Pair plain = Ask(conn, "SELECT sluice_duplicates(x), count(x) - count(DISTINCT x) FROM t");
  ASSERT_TRUE(plain.ours.has_value());  // never NULL
  EXPECT_EQ(plain.ours, plain.duckdb);
  if (plain_only) return;

  Pair filtered =
      Ask(conn,
          "SELECT sluice_duplicates(x) FILTER (WHERE i % 3 <> 1), count(x) FILTER (WHERE i % 3 "
          "<> 1) - count(DISTINCT x) FILTER (WHERE i % 3 <> 1) FROM t");
  ASSERT_TRUE(filtered.ours.has_value());
  EXPECT_EQ(filtered.ours, filtered.duckdb);

  auto grouped = conn.Query(
      "SELECT count(*) FILTER (WHERE ours IS DISTINCT FROM theirs), sum(theirs) FROM ("
      "SELECT g, sluice_duplicates(x) AS ours, count(x) - count(DISTINCT x) AS theirs "
      "FROM t GROUP BY g)");
  EXPECT_EQ(grouped.GetInt(0, 0), 0)
      << "groups that differ; total duplicates " << grouped.GetOr(1, 0, "NULL");
}

void MakeTable(Connection& conn, const std::string& values, int64_t n, int64_t groups, bool nulls,
               uint64_t seed) {
  std::string x =
      nulls ? fmt::format("CASE WHEN hash(i, {}, 99) % 5 = 0 THEN NULL ELSE {} END", seed, values)
            : values;
  conn.Execute(fmt::format(
      "CREATE OR REPLACE TABLE t AS SELECT i, (hash(i, {}, 98) % {})::BIGINT AS g, {} AS x "
      "FROM range({}) t(i)",
      seed, groups, x, n));
}

TEST(Duplicates, MatchesCountDistinctOnRandomTables) {
  Database db;  // one thread per core: states are combined
  Connection conn(db);
  std::mt19937_64 rng(20240611);
  const int64_t kSizes[] = {0, 1, 2, 3, 100, 4095, 4096, 4097, 9000, 70000};
  int tables = 0;
  for (const Shape& shape : kShapes) {
    for (int round = 0; round < 3; ++round) {
      int64_t n = kSizes[rng() % std::size(kSizes)];
      if (round == 0) n = 200000;  // two row groups: two threads, combined
      int64_t offset = kOffsets[rng() % std::size(kOffsets)];
      int64_t groups = std::vector<int64_t>{1, 7, 1000, n / 3 + 1}[rng() % 4];
      bool nulls = rng() % 3 == 0;
      uint64_t seed = rng() % 1000000;
      std::string values = shape.sql(seed, n, offset);
      MakeTable(conn, values, n, groups, nulls, seed);
      ExpectSameAnswers(conn, fmt::format("{}: n={} offset={} groups={} nulls={} x = {}",
                                          shape.name, n, offset, groups, nulls, values));
      ++tables;
    }
  }
  EXPECT_EQ(tables, 3 * static_cast<int>(std::size(kShapes)));
}

// Three row groups on three threads: more thread-local states to combine, of different forms.
TEST(Duplicates, MatchesCountDistinctAcrossMoreThreads) {
  Database db("", 3);
  Connection conn(db);
  const int64_t n = 3 * 122880;
  for (const Shape& shape : kShapes) {
    std::string values = shape.sql(7, n, int64_t{1} << 32);
    MakeTable(conn, values, n, 3, true, 7);
    ExpectSameAnswers(conn, fmt::format("{}: x = {}", shape.name, values), true);
  }
}

// One thread: the values come in table order, so each state sees dense runs turn sparse and
// the other way round.
TEST(Duplicates, MatchesCountDistinctOnOneThread) {
  Database db("", 1);
  Connection conn(db);
  for (const Shape& shape : kShapes) {
    std::string values = shape.sql(11, 200000, -5);
    MakeTable(conn, values, 200000, 2, false, 11);
    ExpectSameAnswers(conn, fmt::format("{}: x = {}", shape.name, values), true);
  }
}

TEST(Duplicates, NoRowsOrOnlyNullsGiveZero) {
  Database db;
  Connection conn(db);
  EXPECT_EQ(conn.Query("SELECT sluice_duplicates(i) FROM range(0) t(i)").Get(0, 0), "0");
  EXPECT_EQ(conn.Query("SELECT sluice_duplicates(NULL::BIGINT) FROM range(10)").Get(0, 0), "0");
  EXPECT_EQ(conn.Query("SELECT sluice_duplicates(NULL)").Get(0, 0), "0");
  EXPECT_EQ(
      conn.Query("SELECT sluice_duplicates(i) FILTER (WHERE false) FROM range(10) t(i)").Get(0, 0),
      "0");
  EXPECT_EQ(conn.Query("SELECT sluice_duplicates(42)").Get(0, 0), "0");
  EXPECT_EQ(conn.Query("SELECT sluice_duplicates(i % 3) FROM range(10) t(i)").Get(0, 0), "7");
}

TEST(Duplicates, TakesNarrowerIntegersByCast) {
  Database db;
  Connection conn(db);
  conn.Execute(
      "CREATE TABLE n AS SELECT (i % 1000)::INTEGER AS a, (i % 50)::SMALLINT AS b, "
      "(i % 7)::UINTEGER AS c FROM range(5000) t(i)");
  auto r = conn.Query(
      "SELECT sluice_duplicates(a), sluice_duplicates(CAST(b AS BIGINT)), "
      "sluice_duplicates(c::BIGINT) FROM n");
  EXPECT_EQ(r.GetInt(0, 0), 4000);
  EXPECT_EQ(r.GetInt(1, 0), 4950);
  EXPECT_EQ(r.GetInt(2, 0), 4993);
}

// The window operator combines the same source states into many targets.
TEST(Duplicates, WorksAsAWindowFunction) {
  Database db;
  Connection conn(db);
  conn.Execute(
      "CREATE TABLE w AS SELECT i, i % 3 AS p, (hash(i) % 40)::BIGINT AS x FROM range(3000) t(i)");
  auto r = conn.Query(
      "SELECT count(*), count(*) FILTER (WHERE ours IS DISTINCT FROM theirs), sum(theirs) FROM ("
      "SELECT sluice_duplicates(x) OVER w AS ours, count(x) OVER w - count(DISTINCT x) OVER w "
      "AS theirs FROM w WINDOW w AS (PARTITION BY p ORDER BY i ROWS BETWEEN 100 PRECEDING AND "
      "CURRENT ROW))");
  EXPECT_EQ(r.GetInt(0, 0), 3000);
  EXPECT_EQ(r.GetInt(1, 0), 0);
  EXPECT_GT(r.GetInt(2, 0), 0);
}

TEST(Duplicates, RegisteredOncePerDatabase) {
  Database db;  // Database registers it
  Connection a(db), b(db);
  RegisterDuplicates(a);  // already there
  RegisterDuplicates(b);
  EXPECT_EQ(b.Query("SELECT sluice_duplicates(i // 2) FROM range(10) t(i)").GetInt(0, 0), 5);
  EXPECT_EQ(b.Query("SELECT count(*) FROM duckdb_functions() WHERE function_name = "
                    "'sluice_duplicates'")
                .GetInt(0, 0),
            1);
}

}  // namespace
}  // namespace sluice::engine
