#include "engine/engine.h"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "common/error.h"
#include "common/interrupt.h"
#include "engine/capture.h"

namespace sluice::engine {
namespace {

TEST(Engine, QueryReadsValuesAndNulls) {
  Database db;
  Connection conn(db);
  auto r = conn.Query("SELECT 42 AS n, NULL::VARCHAR AS s, 'x' AS t");
  ASSERT_EQ(r.column_count(), 3u);
  EXPECT_EQ(r.column_name(0), "n");
  EXPECT_TRUE(r.is_numeric(0));
  EXPECT_FALSE(r.is_numeric(2));
  EXPECT_EQ(r.GetInt(0, 0), 42);
  EXPECT_FALSE(r.Get(1, 0));
  EXPECT_EQ(r.GetOr(1, 0, "NULL"), "NULL");
  EXPECT_EQ(r.GetOr(2, 0), "x");
}

TEST(Engine, PrintableCastsWhatResultCannotReadAndKeepsTheRest) {
  Database db;
  Connection conn(db);
  auto r = conn.Query(Printable(
      conn,
      "SELECT TIMESTAMPTZ '2026-01-01 10:00:00+00' AS tz, [1, 2] AS l, {'a': 1} AS s, "
      "'00000000-0000-0000-0000-000000000001'::UUID AS g, TIMESTAMP_NS '2026-01-01 "
      "00:00:00.123456789' AS ns, 7 AS n, 8 AS n, DATE '2026-01-02' AS d, NULL::INTEGER[] AS e "
      "ORDER BY n"));
  ASSERT_EQ(r.column_count(), 9u);
  EXPECT_EQ(r.GetOr(0, 0), "2026-01-01 10:00:00+00");
  EXPECT_EQ(r.GetOr(1, 0), "[1, 2]");
  EXPECT_EQ(r.GetOr(2, 0), "{'a': 1}");
  EXPECT_EQ(r.GetOr(3, 0), "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(r.GetOr(4, 0), "2026-01-01 00:00:00.123456789");
  // Columns of the same name stay apart, numbers stay numbers, NULL stays NULL.
  EXPECT_EQ(r.column_name(5), "n");
  EXPECT_EQ(r.column_name(6), "n");
  EXPECT_TRUE(r.is_numeric(5));
  EXPECT_EQ(r.GetInt(5, 0), 7);
  EXPECT_EQ(r.GetInt(6, 0), 8);
  EXPECT_EQ(r.GetOr(7, 0), "2026-01-02");
  EXPECT_FALSE(r.Get(8, 0));
  // Nothing to cast, or nothing that prepares: the text as it was.
  EXPECT_EQ(Printable(conn, "SELECT 1 AS a"), "SELECT 1 AS a");
  EXPECT_EQ(Printable(conn, "SELECT * FROM nowhere"), "SELECT * FROM nowhere");
}

TEST(Engine, ErrorsCarryDuckDBsMessageAndPosition) {
  Database db;
  Connection conn(db);
  try {
    conn.Query("SELECT nope FROM range(3)");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LINE 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conn.Query("SELECT CAST('x' AS INTEGER)"), Error);
}

TEST(Engine, InspectTellsWhatStatementsDo) {
  Database db;
  Connection conn(db);
  auto s = conn.Inspect("SELECT 1; CREATE TABLE t (a INT); EXPLAIN SELECT 2");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].kind, StatementKind::kSelect);
  EXPECT_EQ(s[1].kind, StatementKind::kOther);
  EXPECT_EQ(s[1].keyword, "CREATE");
  EXPECT_EQ(s[2].kind, StatementKind::kExplain);
  EXPECT_THROW(conn.Inspect("SELEC 1"), Error);
}

TEST(Engine, ProgressIsReportedForLongStatements) {
  Database db;
  Connection conn(db);
  conn.Execute("CREATE TABLE t AS SELECT i, (i * 7919) % 1000003 AS k FROM range(30000000) r(i)");
  int calls = 0;
  double last = -1;
  auto r = conn.QueryWithProgress(
      "SELECT count(DISTINCT k), sum(i) FROM t",
      [&](double p) {
        ++calls;
        last = p;
      },
      20);
  EXPECT_EQ(r.GetInt(0, 0), 1000003);
  EXPECT_GT(calls, 0);
  EXPECT_GE(last, 0);
  EXPECT_LE(last, 100);
}

TEST(Engine, CtrlCInterruptsALongStatement) {
  Database db;
  Connection conn(db);
  conn.Execute("CREATE TABLE t AS SELECT i FROM range(30000000) r(i)");
  InstallInterruptHandler();
  std::thread user([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::raise(SIGINT);
  });
  try {
    conn.QueryWithProgress("SELECT count(DISTINCT i * 7919 % 1000003), sum(i) FROM t, range(20)",
                           nullptr, 20);
    ADD_FAILURE() << "expected an interrupt";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInterrupted);
    EXPECT_EQ(ExitCodeFor(e.kind()), 130);
  }
  user.join();
  ClearInterrupt();
  // The connection is usable again.
  EXPECT_EQ(conn.Query("SELECT 1").GetInt(0, 0), 1);
}

TEST(RowCapture, KeepsRowsWithRawAndCountsTheRest) {
  Database db;
  Connection conn(db);
  RowCapture aside(conn, "set_aside");
  auto r = conn.Query(
      "SELECT count(*) FROM range(10000) t(i) WHERE CASE WHEN i % 10 <> 0 THEN true "
      "ELSE set_aside(CAST(i % 3 AS INTEGER), CASE WHEN i % 20 = 0 THEN 'drop' ELSE 'bad' END, "
      "CASE WHEN i % 20 = 0 THEN NULL ELSE 'row ' || i END) END");
  EXPECT_EQ(r.GetInt(0, 0), 9000);
  EXPECT_EQ(aside.counts().at("drop"), 500);
  EXPECT_EQ(aside.rows().size(), 500u);
  aside.Materialize(conn, "kept");
  auto k = conn.Query("SELECT count(*), count(DISTINCT raw), min(reason) FROM kept");
  EXPECT_EQ(k.GetInt(0, 0), 500);
  EXPECT_EQ(k.GetInt(1, 0), 500);
  EXPECT_EQ(k.GetOr(2, 0), "bad");
}

}  // namespace
}  // namespace sluice::engine
