#include "catalog/query.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::catalog {
namespace {

// The code CheckedStatement refuses `sql` with, or "" when it lets it run.
std::string Refusal(const std::string& sql) {
  engine::Database db;
  engine::Connection conn(db);
  try {
    CheckedStatement(conn, sql);
    return "";
  } catch (const Error& e) {
    return e.code();
  }
}

TEST(QueryGate, RunsOneSelectInAnyOfItsSpellings) {
  for (const char* sql : {"SELECT 1", "/* c */ (SELECT 1)", "WITH a AS (SELECT 1) SELECT * FROM a",
                          "FROM range(3)", "VALUES (1), (2)", "DESCRIBE SELECT 1",
                          "SELECT 1 -- trailing comment", "EXPLAIN SELECT 1"}) {
    EXPECT_EQ(Refusal(sql), "") << sql;
  }
}

TEST(QueryGate, EveryOtherStatementIsRefusedBeforeItRuns) {
  for (const char* sql :
       {"EXPLAIN (FORMAT json, ANALYZE) COPY (SELECT 1) TO '/tmp/lake' (FORMAT csv, OVERWRITE)",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/lake/x.csv'", "EXPLAIN ANALYZE SELECT 1",
        "EXPLAIN (ANALYZE) SELECT 1", "EXPLAIN INSERT INTO t VALUES (1)",
        "COPY (SELECT 1) TO '/tmp/x.csv'", "CREATE TABLE t AS SELECT 1", "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 1", "DELETE FROM t", "DROP TABLE t", "ATTACH 'x.db'", "SET threads = 1",
        "PRAGMA version", "CALL pragma_version()", "INSTALL httpfs", "EXPORT DATABASE '/tmp/d'",
        "CHECKPOINT", "BEGIN TRANSACTION"}) {
    EXPECT_EQ(Refusal(sql), "query.write_refused") << sql;
  }
  EXPECT_EQ(Refusal("SELECT 1; SELECT 2"), "query.multiple_statements");
  EXPECT_EQ(Refusal("EXPLAIN SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'"),
            "query.multiple_statements");
}

TEST(QueryGate, ExplainRunsTheExplainOfTheCheckedSelect) {
  engine::Database db;
  engine::Connection conn(db);
  EXPECT_EQ(CheckedStatement(conn, "  explain SELECT 1"), "EXPLAIN  SELECT 1");
  EXPECT_EQ(CheckedStatement(conn, "SELECT 1"), "SELECT 1");
}

TEST(QueryGate, ASelectComesWithoutTheSemicolonThatEndsIt) {
  engine::Database db;
  engine::Connection conn(db);
  EXPECT_EQ(CheckedStatement(conn, "SELECT 1;"), "SELECT 1");
  EXPECT_EQ(CheckedStatement(conn, "SELECT 1 ; ; -- done\n /* ; */ "), "SELECT 1 ");
  // The `;` of a comment is the comment's: what goes is the same statement.
  EXPECT_EQ(CheckedStatement(conn, "SELECT ';' AS s -- ;"), "SELECT ';' AS s --");
  EXPECT_EQ(CheckedStatement(conn, "SELECT 'it''s;' AS \"a;\"\"b\";"),
            "SELECT 'it''s;' AS \"a;\"\"b\"");
  EXPECT_EQ(CheckedStatement(conn, "SELECT 1 /* ; */"), "SELECT 1 /* ; */");
  // Texts the cut misreads (dollar quotes, E'' escapes, nested comments): the parser checks a
  // cut, so a query never loses a part (here its WHERE) and a trailing `;` still goes.
  for (const std::string sql :
       {"SELECT $$'$$ AS q, count(*) AS n FROM range(10) t(x) -- ';/*\nWHERE x > 5 /* */",
        "SELECT E'\\'' AS q, count(*) AS n FROM range(10) t(x) -- ';\nWHERE x > 5",
        "SELECT 1 AS n /* /* */ ; */ WHERE false"}) {
    EXPECT_EQ(CheckedStatement(conn, sql), sql);
  }
  EXPECT_EQ(CheckedStatement(conn, "SELECT $$O'Brien$$ AS who;"), "SELECT $$O'Brien$$ AS who");
}

}  // namespace
}  // namespace sluice::catalog
