#include "pg/pg.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/redact.h"
#include "common/time.h"
#include "pg/testing/server.h"

namespace sluice::pg {
namespace {

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SLUICE_REQUIRE_POSTGRES();
    server_ = std::make_unique<testing::Server>();
    db_ = std::make_unique<Connection>(server_->conninfo());
  }

  std::unique_ptr<testing::Server> server_;
  std::unique_ptr<Connection> db_;
};

// The code of the pg::Error that `run` throws; its message and SQLSTATE into the pointers.
template <typename F>
std::string CodeOf(F run, std::string* message = nullptr, std::string* sqlstate = nullptr) {
  try {
    run();
  } catch (const Error& e) {
    if (message) *message = e.what();
    if (sqlstate) *sqlstate = e.sqlstate();
    return e.code();
  }
  return "(no error)";
}

TEST_F(PgTest, ConnectFailureNeverShowsThePassword) {
  const std::string password = "hunter2-wrong-pw";
  std::string message;
  // A wrong password over TCP, as a conninfo and as a URI.
  EXPECT_EQ(CodeOf([&] { Connection c(server_->tcp_conninfo(password)); }, &message), "pg.connect");
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find("database 'postgres' as user 'postgres'"), std::string::npos) << message;
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  std::string uri = "postgresql://postgres:" + password +
                    "@127.0.0.1:" + std::to_string(server_->port()) + "/nosuchdb";
  EXPECT_EQ(CodeOf([&] { Connection c(uri); }, &message), "pg.connect");
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  // Nothing listening.
  EXPECT_EQ(CodeOf([&] { Connection c("host=127.0.0.1 port=1 password=" + password); }, &message),
            "pg.connect");
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  // A malformed conninfo, which libpq quotes in its error.
  EXPECT_EQ(CodeOf([&] { Connection c("host=127.0.0.1 password " + password); }, &message),
            "pg.connect");
  EXPECT_EQ(message.find(password), std::string::npos) << message;
  // A password from ${env:...} holding characters a URI splits at: libpq reads the pieces as a
  // port, a host or a database name and quotes them; none of them shows.
  for (std::string odd : {"Wr0ng/SecretXYZ", "Wr0ng@SecretXYZ", "Wr0ng?Secret#XYZ"}) {
    RegisterSecret(odd);
    std::string broken = "postgresql://postgres:" + odd +
                         "@127.0.0.1:" + std::to_string(server_->port()) + "/postgres";
    // An '@' or '/' in the user information is refused before libpq splits the URI at it.
    bool splits = odd.find_first_of("@/") != std::string::npos;
    EXPECT_EQ(CodeOf([&] { Connection c(broken); }, &message), splits ? "pg.uri" : "pg.connect");
    EXPECT_EQ(message.find("Secret"), std::string::npos) << message;
    EXPECT_EQ(message.find("Wr0ng"), std::string::npos) << message;
  }
  // So is one written in the URI itself (no ${env:...}, nothing registered as a secret).
  for (std::string odd : {"Zq@longsecretpart", "Zq/longsecretpart"}) {
    std::string broken = "postgresql://hx:" + odd +
                         "@127.0.0.1:" + std::to_string(server_->port()) + "/h6?sslmode=disable";
    EXPECT_EQ(CodeOf([&] { Connection c(broken); }, &message), "pg.uri");
    EXPECT_EQ(message.find("longsecretpart"), std::string::npos) << message;
    EXPECT_NE(message.find("percent-encode"), std::string::npos) << message;
  }
  // The right password connects.
  Connection ok(server_->tcp_conninfo(testing::Server::kPassword));
  EXPECT_EQ(ok.Query("SELECT 1").Int(0, 0), 1);
}

TEST_F(PgTest, ParamsAndTypesRoundTrip) {
  Result r = db_->Query(
      "SELECT $1 AS i, $2 AS d, $3 AS b, $4 AS t, $5::text AS n, $6::date AS day",
      {int64_t{-9'000'000'000}, 2.5, true, "tab\there 'quoted' é", nullptr, "2026-12-05"});
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.Int(0, r.column("i")), -9'000'000'000);
  EXPECT_DOUBLE_EQ(r.Double(0, r.column("d")), 2.5);
  EXPECT_TRUE(r.Bool(0, r.column("b")));
  EXPECT_EQ(r.Text(0, r.column("t")), "tab\there 'quoted' é");
  EXPECT_TRUE(r.IsNull(0, r.column("n")));
  EXPECT_EQ(r.Text(0, r.column("day")), "2026-12-05");
  // Reading a field as what it is not is a pg.type error, as is a NULL read as a value.
  EXPECT_EQ(CodeOf([&] { r.Int(0, r.column("t")); }), "pg.type");
  EXPECT_EQ(CodeOf([&] { r.Text(0, r.column("n")); }), "pg.type");
  EXPECT_EQ(CodeOf([&] { r.column("missing"); }), "pg.type");

  db_->Query("CREATE TABLE t (id int4 PRIMARY KEY, score numeric, note text)");
  EXPECT_EQ(db_->Query("INSERT INTO t VALUES ($1, $2, $3), ($4, $5, $6)",
                       {1, "12.75", "one", 2, nullptr, nullptr})
                .affected(),
            2);
  Result rows = db_->Query("SELECT id, score, note FROM t WHERE id >= $1 ORDER BY id", {1});
  ASSERT_EQ(rows.rows(), 2);
  EXPECT_EQ(rows.Int(1, 0), 2);
  EXPECT_DOUBLE_EQ(rows.Double(0, 1), 12.75);
  EXPECT_TRUE(rows.IsNull(1, 2));
}

TEST_F(PgTest, TransactionRollsBackUnlessCommitted) {
  db_->Query("CREATE TABLE t (v int4)");
  try {
    Transaction tx(*db_);
    db_->Query("INSERT INTO t VALUES (1)");
    throw std::runtime_error("the caller fails midway");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 0);
  {
    Transaction tx(*db_, Isolation::kSerializable);
    db_->Query("INSERT INTO t VALUES (2)");
    tx.Commit();
  }
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 1);
  // A statement failed inside: Commit refuses rather than silently rolling back.
  Transaction tx(*db_);
  db_->Query("INSERT INTO t VALUES (3)");
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT 1/0"); }), "pg.query");
  EXPECT_EQ(CodeOf([&] { tx.Commit(); }), "pg.query");
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 1);
}

TEST_F(PgTest, StatementTimeoutAndCancel) {
  db_->SetStatementTimeout(200);
  int64_t start = MonotonicMs();
  std::string message, sqlstate;
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT pg_sleep(10)"); }, &message, &sqlstate), "pg.timeout");
  EXPECT_EQ(sqlstate, "57014");
  EXPECT_NE(message.find("pg_sleep"), std::string::npos) << message;  // names the statement
  EXPECT_LT(MonotonicMs() - start, 5'000);
  db_->SetStatementTimeout(0);
  EXPECT_EQ(db_->Query("SELECT 7").Int(0, 0), 7);  // the session goes on

  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    db_->Cancel();
  });
  start = MonotonicMs();
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT pg_sleep(10)"); }), "pg.cancelled");
  EXPECT_LT(MonotonicMs() - start, 5'000);
  canceller.join();
}

TEST_F(PgTest, CopyFromStdin) {
  db_->Query("CREATE TABLE t (id int8, name text, seen date)");
  {
    CopyIn copy = db_->CopyFrom("COPY t (id, name, seen) FROM STDIN");
    copy.WriteRow({1, "plain", "2026-01-02"});
    copy.WriteRow({2, "tab\tnew\nline \\ back", nullptr});
    copy.WriteRow({3, nullptr, "2026-03-04"});
    EXPECT_EQ(copy.Finish(), 3);
  }
  Result r = db_->Query("SELECT id, name, seen FROM t ORDER BY id");
  ASSERT_EQ(r.rows(), 3);
  EXPECT_EQ(r.Text(1, 1), "tab\tnew\nline \\ back");
  EXPECT_TRUE(r.IsNull(1, 2));
  EXPECT_TRUE(r.IsNull(2, 1));
  {
    CopyIn abandoned = db_->CopyFrom("COPY t (id) FROM STDIN");
    abandoned.WriteRow({4});
  }  // destroyed unfinished: nothing stored
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 3);
  CopyIn bad = db_->CopyFrom("COPY t (id) FROM STDIN");
  bad.WriteRow({"not a number"});
  std::string message;
  EXPECT_EQ(CodeOf([&] { bad.Finish(); }, &message), "pg.query");
  EXPECT_NE(message.find("invalid input syntax for type bigint"), std::string::npos) << message;
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 3);
}

TEST_F(PgTest, CopyToStreamsOneRowPerCallAndRecovers) {
  db_->Query("CREATE TABLE t (id int8, name text, amount numeric(8,2))");
  db_->Query(
      "INSERT INTO t SELECT g, CASE WHEN g = 2 THEN E'two\nlines, \"q\"' END, g "
      "FROM generate_series(1, 1000) g");
  Result shape = db_->Query("SELECT * FROM t LIMIT 0");
  EXPECT_EQ(shape.type_oid(0), 20u);
  EXPECT_EQ(shape.type_oid(2), 1700u);
  EXPECT_EQ(shape.type_modifier(2), ((8 << 16) | 2) + 4);
  EXPECT_EQ(shape.type_modifier(0), -1);
  std::vector<std::string> rows;
  int64_t n = db_->CopyTo("COPY (SELECT * FROM t ORDER BY id) TO STDOUT (FORMAT csv)",
                          [&](std::string_view row) { rows.emplace_back(row); });
  EXPECT_EQ(n, 1000);
  ASSERT_EQ(rows.size(), 1000u);
  EXPECT_EQ(rows[0], "1,,1.00\n");
  EXPECT_EQ(rows[1], "2,\"two\nlines, \"\"q\"\"\",2.00\n");  // a row is whole, its newline kept
  // A callback that throws cancels the COPY; the connection goes on.
  int seen = 0;
  EXPECT_THROW(db_->CopyTo("COPY t TO STDOUT",
                           [&](std::string_view) {
                             if (++seen == 10) throw std::runtime_error("stop");
                           }),
               std::runtime_error);
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 1000);
  // Only a COPY TO goes through CopyTo, and a COPY TO not through Query.
  EXPECT_EQ(CodeOf([&] { db_->CopyTo("SELECT 1", [](std::string_view) {}); }), "pg.query");
  EXPECT_EQ(CodeOf([&] { db_->Query("COPY t TO STDOUT"); }), "pg.query");
  EXPECT_EQ(db_->Query("SELECT 2").Int(0, 0), 2);
}

TEST_F(PgTest, ReadOnlyTransactionRefusesWrites) {
  db_->Query("CREATE TABLE t (id int)");
  {
    Transaction tx(*db_, Isolation::kRepeatableRead, /*read_only=*/true);
    std::string message;
    EXPECT_EQ(CodeOf([&] { db_->Query("INSERT INTO t VALUES (1)"); }, &message), "pg.query");
    EXPECT_NE(message.find("read-only transaction"), std::string::npos) << message;
  }
  EXPECT_EQ(db_->Query("SELECT count(*) FROM t").Int(0, 0), 0);
}

TEST_F(PgTest, SqlStatesOfLostRacesAreDistinct) {
  db_->Query("CREATE TABLE t (id int4 PRIMARY KEY)");
  db_->Query("INSERT INTO t VALUES (1)");
  std::string sqlstate;
  try {
    db_->Query("INSERT INTO t VALUES ($1)", {1});
    FAIL() << "a duplicate key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "pg.unique_violation");
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_TRUE(e.lost_race());
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  // Two serializable transactions that each read what the other writes: one loses.
  db_->Query("CREATE TABLE acct (id int4, v int4)");
  db_->Query("INSERT INTO acct VALUES (1, 0), (2, 0)");
  Connection other(server_->conninfo());
  Transaction a(*db_, Isolation::kSerializable);
  Transaction b(other, Isolation::kSerializable);
  db_->Query("UPDATE acct SET v = (SELECT sum(v) FROM acct) + 1 WHERE id = 1");
  other.Query("UPDATE acct SET v = (SELECT sum(v) FROM acct) + 1 WHERE id = 2");
  a.Commit();
  EXPECT_EQ(CodeOf([&] { b.Commit(); }, nullptr, &sqlstate), "pg.serialization_failure");
  EXPECT_EQ(sqlstate, "40001");
  // Any other error is pg.query with its SQLSTATE.
  EXPECT_EQ(CodeOf([&] { db_->Query("SELECT * FROM no_such_table"); }, nullptr, &sqlstate),
            "pg.query");
  EXPECT_EQ(sqlstate, "42P01");
}

}  // namespace
}  // namespace sluice::pg
