#include "engine/moments.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"

namespace sluice::engine {
namespace {

// Columns y and x of a test table, as SQL over `range(n) t(i)`; deterministic for a seed.
struct Shape {
  const char* name;
  const char* y;
  const char* x;
};

// {s}: the seed. u(k) is a uniform value in [0, 1) of row i.
const Shape kShapes[] = {
    {"uniform, correlated", "u1 * 100 + u2 * 10", "u1 * 3 - 7"},
    {"anti-correlated", "-u1 * 1000 + u2", "u1"},
    {"independent", "u1", "u2"},
    {"far from zero, narrow", "1e6 + u1", "-5e5 + u1 * 0.1 + u2 * 0.1"},
    {"small integers", "floor(u1 * 5)", "floor(u2 * 3) + floor(u1 * 2)"},
    {"constant y", "42.5", "u1"},
    {"constant both", "1", "-1"},
    {"decimals", "CAST(floor(u1 * 1e6) / 100 AS DECIMAL(12, 2))",
     "CAST(floor(u2 * 100) AS INTEGER)"},
    {"tiny", "u1 * 1e-100", "u2 * 1e-100 + u1 * 1e-101"},
    {"huge", "u1 * 1e100", "(u1 + u2) * 1e100"},
    {"sorted", "i", "i * 2 + u1"},
};

std::string Values(const std::string& expr, uint64_t seed) {
  std::string out = expr;
  for (int k : {1, 2}) {
    std::string from = fmt::format("u{}", k);
    std::string to = fmt::format("((hash(i, {}, {}) % 1000003) / 1000003.0)", seed, k);
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  }
  return out;
}

void MakeTable(Connection& conn, const Shape& shape, int64_t n, int64_t groups, int nulls,
               uint64_t seed) {
  std::string y = Values(shape.y, seed), x = Values(shape.x, seed);
  // nulls: 0 none, 1 in y, 2 in x, 3 in both (apart).
  if (nulls & 1)
    y = fmt::format("CASE WHEN hash(i, {}, 97) % 5 = 0 THEN NULL ELSE {} END", seed, y);
  if (nulls & 2)
    x = fmt::format("CASE WHEN hash(i, {}, 96) % 4 = 0 THEN NULL ELSE {} END", seed, x);
  conn.Execute(fmt::format(
      "CREATE OR REPLACE TABLE t AS SELECT i, (hash(i, {}, 98) % {})::BIGINT AS g, {} AS y, {} AS "
      "x FROM range({}) t(i)",
      seed, groups, y, x, n));
}

// True SQL when `ours` is wrong: it neither agrees with DuckDB's answer `duckdb` (the same NULL or
// NaN, or numbers 1e-9 apart relative to their size, or absolutely for corr, which is at most 1)
// nor is at least as close as DuckDB's to `exact`, a two-pass answer with Kahan sums. (Welford's
// method loses digits where values are large and vary little: there the answers may differ.)
std::string Wrong(const std::string& ours, const std::string& duckdb, const std::string& exact,
                  bool relative) {
  return fmt::format(
      "NOT coalesce(({0}) IS NOT DISTINCT FROM ({1}) OR (isnan({0}) AND isnan({1})) OR "
      "abs(({0}) - ({1})) <= 1e-9 * {3} OR abs(({0}) - ({2})) <= abs(({1}) - ({2})), false)",
      ours, duckdb, exact,
      relative ? fmt::format("greatest(abs({}), abs({}))", ours, duckdb) : "1");
}

// Groups (by `key`) of the rows of t that `filter` keeps where sluice_stddev_samp(y) or
// sluice_corr(y, x) is Wrong().
int64_t Differences(Connection& conn, const std::string& key, const std::string& filter) {
  std::string query = fmt::format(
      "WITH b AS (SELECT {0} AS k, y, x, x IS NOT NULL AND y IS NOT NULL AS pair FROM t WHERE "
      "{1}), "
      "m AS (SELECT k, fsum(y) / count(y) AS my, fsum(y) FILTER (pair) / count(*) FILTER (pair) "
      "AS py, fsum(x) FILTER (pair) / count(*) FILTER (pair) AS px FROM b GROUP BY k) "
      "SELECT k, stddev_samp(y) AS s1, sluice_stddev_samp(y) AS s2, "
      "sqrt(fsum((y - my) * (y - my)) / (count(y) - 1)) AS s0, corr(y, x) AS c1, "
      "sluice_corr(y, x) AS c2, fsum((y - py) * (x - px)) FILTER (pair) / sqrt(fsum((y - py) * "
      "(y - py)) FILTER (pair) * fsum((x - px) * (x - px)) FILTER (pair)) AS c0 "
      "FROM b JOIN m USING (k) GROUP BY k",
      key, filter);
  std::string wrong = Wrong("s2", "s1", "s0", true) + " OR " + Wrong("c2", "c1", "c0", false);
  int64_t d = conn.Query(fmt::format("SELECT count(*) FILTER (WHERE {}) FROM ({})", wrong, query))
                  .GetInt(0, 0);
  if (d) {
    auto rows = conn.Query(
        fmt::format("SELECT s1, s2, s0, c1, c2, c0 FROM ({}) WHERE {} LIMIT 5", query, wrong));
    for (size_t i = 0; i < rows.row_count(); ++i) {
      ADD_FAILURE() << "stddev_samp: DuckDB " << rows.GetOr(0, i, "NULL") << ", ours "
                    << rows.GetOr(1, i, "NULL") << ", two-pass " << rows.GetOr(2, i, "NULL")
                    << "; corr: DuckDB " << rows.GetOr(3, i, "NULL") << ", ours "
                    << rows.GetOr(4, i, "NULL") << ", two-pass " << rows.GetOr(5, i, "NULL");
    }
  }
  return d;
}

void ExpectSameAnswers(Connection& conn, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(Differences(conn, "0", "true"), 0);
  EXPECT_EQ(Differences(conn, "0", "i % 3 <> 1"), 0);
  EXPECT_EQ(Differences(conn, "g", "true"), 0);
}

TEST(Moments, MatchDuckDBOnRandomTables) {
  std::mt19937_64 rng(20261122);
  const int64_t kSizes[] = {0, 1, 2, 3, 5, 100, 2047, 2048, 2049, 10000};
  for (int threads : {1, 2, 3}) {
    Database db("", threads);
    Connection conn(db);
    int tables = 0;
    for (const Shape& shape : kShapes) {
      for (int round = 0; round < 3; ++round) {
        int64_t n = round == 0 ? 250000 : kSizes[rng() % std::size(kSizes)];  // 3 row groups
        int64_t groups = std::vector<int64_t>{1, 7, 1000, n / 3 + 1}[rng() % 4];
        int nulls = static_cast<int>(rng() % 4);
        uint64_t seed = rng() % 1000000;
        MakeTable(conn, shape, n, groups, nulls, seed);
        ExpectSameAnswers(conn, fmt::format("{} threads, {}: n={} groups={} nulls={} seed={}",
                                            threads, shape.name, n, groups, nulls, seed));
        ++tables;
      }
    }
    EXPECT_EQ(tables, 3 * static_cast<int>(std::size(kShapes)));
  }
}

TEST(Moments, NullsNanAndErrorsAsDuckDB) {
  Database db;
  Connection conn(db);
  auto row = [&](const std::string& values) {
    auto r = conn.Query(fmt::format(
        "SELECT sluice_stddev_samp(y), sluice_corr(y, x) FROM (VALUES {}) t(y, x)", values));
    return r.GetOr(0, 0, "NULL") + " " + r.GetOr(1, 0, "NULL");
  };
  EXPECT_EQ(row("(NULL::DOUBLE, NULL::DOUBLE)"), "NULL NULL");
  EXPECT_EQ(row("(1.0::DOUBLE, 2.0::DOUBLE)"), "NULL nan");  // one value; no spread
  EXPECT_EQ(row("(1.0::DOUBLE, NULL::DOUBLE), (3, NULL)"), "1.4142135623730951 NULL");
  EXPECT_EQ(row("(1.0::DOUBLE, 1.0::DOUBLE), (1, 2)"), "0.0 nan");  // y does not vary
  EXPECT_EQ(row("(1.0::DOUBLE, 1.0::DOUBLE), (2, 2), (3, 3)"), "1.0 1.0");
  EXPECT_EQ(row("(1.0::DOUBLE, 3.0::DOUBLE), (2, 2), (3, 1)"), "1.0 -1.0");
  EXPECT_EQ(row("(1e308::DOUBLE, 1e308::DOUBLE), (1e308, 1e308)"), "0.0 nan");  // no overflow
  EXPECT_EQ(row("(7e307::DOUBLE, 1.0::DOUBLE), (7e307, 2), (7e307, 3)"), "0.0 nan");
  EXPECT_EQ(conn.Query("SELECT sluice_stddev_samp(i) FROM range(0) t(i)").GetOr(0, 0, "NULL"),
            "NULL");
  for (const char* bad : {"'inf'::DOUBLE", "'-inf'::DOUBLE", "'nan'::DOUBLE", "1e300::DOUBLE"}) {
    SCOPED_TRACE(bad);
    std::string values = fmt::format("(1.0::DOUBLE, 1.0::DOUBLE), ({0}, 2.0), (-{0}, 3.0)", bad);
    EXPECT_THROW(conn.Query(fmt::format("SELECT stddev_samp(y) FROM (VALUES {}) t(y, x)", values)),
                 Error);
    auto expect_error = [&](const std::string& aggregate, const std::string& message) {
      try {
        conn.Query(fmt::format("SELECT {} FROM (VALUES {}) t(y, x)", aggregate, values));
        ADD_FAILURE() << aggregate << ": no error";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      }
    };
    expect_error("sluice_stddev_samp(y)", "STDDEV_SAMP is out of range");
    expect_error("sluice_corr(y, x)", "STDDEV_POP for Y is out of range");
  }
}

// The window operator combines the same source states into many targets.
TEST(Moments, WorkAsWindowFunctions) {
  Database db;
  Connection conn(db);
  conn.Execute(
      "CREATE TABLE w AS SELECT i, i % 3 AS p, (hash(i) % 1000) / 10.0 AS y, (hash(i, 2) % 100) "
      "+ i / 100.0 AS x FROM range(3000) t(i)");
  std::string over = "OVER (PARTITION BY p ORDER BY i ROWS BETWEEN 100 PRECEDING AND CURRENT ROW)";
  auto r = conn.Query(fmt::format(
      "SELECT count(*), count(*) FILTER (WHERE {0} OR {1}) FROM (SELECT stddev_samp(y) {2} AS s1, "
      "sluice_stddev_samp(y) {2} AS s2, corr(y, x) {2} AS c1, sluice_corr(y, x) {2} AS c2 FROM w)",
      Wrong("s2", "s1", "s1", true), Wrong("c2", "c1", "c1", false), over));
  EXPECT_EQ(r.GetInt(0, 0), 3000);
  EXPECT_EQ(r.GetInt(1, 0), 0);
}

TEST(Moments, RegisteredOncePerDatabase) {
  Database db;  // Database registers them
  Connection a(db);
  RegisterMoments(a);  // already there
  EXPECT_EQ(a.Query("SELECT count(*) FROM duckdb_functions() WHERE function_name IN "
                    "('sluice_stddev_samp', 'sluice_corr')")
                .GetInt(0, 0),
            2);
}

}  // namespace
}  // namespace sluice::engine
