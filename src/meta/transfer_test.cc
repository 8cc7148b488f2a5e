// meta::Export / Import (transfer.h): a metastore moves between SQLite and PostgreSQL whole, and
// an import refuses what is not a whole export of the same schema into an empty metastore,
// changing nothing.
#include "meta/transfer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/time.h"
#include "meta/sql_core.h"
#include "meta/sql_metastore.h"
#include "meta/testing/backends.h"
#include "pg/testing/server.h"

namespace sluice::meta {
namespace {

using testing::Backend;

// Some of everything: a table with versions and files, runs with steps, checks and logs,
// bookmarks, a landed file, a token, a snapshot whose bytes are not text, a schedule mark.
void Fill(Metastore& m) {
  int64_t run = m.StartRun("job", "clean", "manual", "h1");
  RunCommit c;
  c.run = Run{.id = run, .kind = "job", .name = "clean", .status = RunStatus::kSucceeded};
  TableChange t{.db = "silver", .name = "orders", .kind = "job", .format = "parquet"};
  t.columns = {{"id", "BIGINT"}, {"amount", "DOUBLE"}};
  t.added.push_back({"staging/orders/a", 10});
  c.tables.push_back(t);
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/a.csv", "landing/orders/b \"quoted\".csv"};
  c.steps = {{run, 0, "read", "succeeded", 1, 2, 3, ""}};
  CheckResult check;
  check.table = "silver.orders";
  check.rule = "RowCount > 0";
  check.outcome = "passed";
  check.value = 0.1 + 0.2;  // a double that must come back exactly
  c.checks = {check};
  m.CommitRun(c);
  m.AppendLog(run, "info", "", "caf\xc3\xa9 \xf0\x9f\x93\xa6 line\nbreak");
  m.RecordLanded({"orders", "landing/orders/a.csv", "abc", 10, 5});
  m.CreateToken("ci", "hash");
  m.PutSnapshot("h1", std::string("sluice-definitions 1\n\xe9\0", 23));
  m.FireSchedule("w", "cron0", std::nullopt, 5000, {});
  m.EnqueueRun(Run{.kind = "workflow", .name = "w", .params = "{\"a\": 1}"});
}

std::string DataLines(const std::string& file) {
  return file.substr(file.find('\n') + 1);  // without the header, which names the dialect
}

class TransferTest : public ::testing::TestWithParam<std::tuple<Backend, Backend>> {
 protected:
  void SetUp() override {
    SLUICE_REQUIRE_BACKEND(std::get<0>(GetParam()));
    SLUICE_REQUIRE_BACKEND(std::get<1>(GetParam()));
    for (auto* d : {&from_dir_, &to_dir_}) {
      *d = fs::temp_directory_path() / ("sluice-transfer-" + UniqueSuffix());
      fs::create_directories(*d);
    }
    from_ = std::get<0>(GetParam()).uri(from_dir_);
    to_ = std::get<1>(GetParam()).uri(to_dir_);
  }
  void TearDown() override {
    fs::remove_all(from_dir_);
    fs::remove_all(to_dir_);
  }
  fs::path from_dir_, to_dir_;
  std::string from_, to_;
};

TEST_P(TransferTest, AMetastoreMovesWholeAndComesBackTheSame) {
  Fill(*Open(from_));
  std::stringstream first;
  auto exported = Export(from_, first);
  EXPECT_EQ(exported.rows["runs"], 2);
  EXPECT_EQ(exported.rows["bookmarks"], 2);
  auto imported = Import(to_, first);
  EXPECT_EQ(imported.rows, exported.rows);
  std::stringstream second;
  Export(to_, second);
  EXPECT_EQ(DataLines(second.str()), DataLines(first.str()));

  // The imported metastore works on: what its readers see is what was written, and new rows
  // take keys after the imported ones.
  auto m = Open(to_);
  auto table = m->GetTable("silver", "orders");
  ASSERT_TRUE(table);
  EXPECT_EQ(m->TableFiles(table->id, 0, false).size(), 1u);
  EXPECT_EQ(m->Bookmarks("clean").size(), 2u);
  EXPECT_EQ(m->GetSnapshot("h1"), std::string("sluice-definitions 1\n\xe9\0", 23));
  EXPECT_EQ(m->RuleHistory("silver.orders", "RowCount > 0", 5, "job"),
            std::vector<double>{0.1 + 0.2});
  EXPECT_EQ(m->ScheduleMark("w", "cron0"), 5000);
  auto logs = m->Logs(1, 0, 10);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].message, "caf\xc3\xa9 \xf0\x9f\x93\xa6 line\nbreak");
  EXPECT_EQ(m->StartRun("job", "clean", "manual", ""), 3);
  EXPECT_GT(m->AppendLog(3, "info", "", "next"), logs[0].id);
}

TEST_P(TransferTest, AnImportIntoAMetastoreThatHoldsRowsChangesNothing) {
  Fill(*Open(from_));
  std::stringstream file;
  Export(from_, file);
  Open(to_)->CreateToken("mine", "x");
  try {
    Import(to_, file);
    ADD_FAILURE() << "imported into a metastore that holds a token";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "metastore.not_empty");
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("api_tokens holds 1 row"), std::string::npos) << e.what();
  }
  auto m = Open(to_);
  EXPECT_EQ(m->Tokens().size(), 1u);
  EXPECT_TRUE(m->ListRuns({}).empty());
}

// Each damaged file is refused with the line it went wrong on, and the target stays empty.
TEST_P(TransferTest, ADamagedExportIsRefusedByLineAndNothingIsImported) {
  Fill(*Open(from_));
  std::stringstream file;
  Export(from_, file);
  const std::string good = file.str();
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {"", "line 1 of the export: not a metastore export"},
      {"{\"format\": \"other\"}\n", "line 1 of the export: not a metastore export"},
      {replaced("\"format_version\":1", "\"format_version\":2"), "format version 2 is not 1"},
      {good.substr(0, good.size() / 2), "of the export"},
      {replaced("\"columns\":[\"name\",",
                "\"columns\":[\"name) VALUES (1); DROP TABLE runs; --\","),
       "table databases has no column \"name) VALUES (1); DROP TABLE runs; --\""},
      {replaced("\"table\":\"databases\"", "\"table\":\"sqlite_master\""),
       "unknown table 'sqlite_master'"},
      {replaced("\"runs\":2", "\"runs\":3"), "runs has 2 rows, its header says 3"},
      {replaced("\"runs\":2", "\"evil\":2"), "unknown table 'evil'"},
      {good + "[1]\n", "a row of extract_files has 1 values for 8 columns"},
      {good + "{}\n", "expected a table's line"},
      {replaced("[\"ci\",\"hash\"", "[\"ci\",7"), "api_tokens.hash takes a text, not that number"},
      {replaced("[1,\"job\"", "[18446744073709551615,\"job\""),
       "runs.id takes an integer, not that number"},
      {replaced("[1,\"job\"", "[\"one\",\"job\""), "runs.id takes an integer, not a text"},
      {replaced("[2,\"workflow\"", "[1,\"workflow\""), "the metastore refused this row of runs"},
      {replaced("\"columns\":[\"name\",", "\"columns\":[[[[[[[[1]]]]]]],"),
       "JSON nested deeper than an export's"},
      {replaced("\"table\":\"bookmarks\"", "\"table\":\"tables\""), "table tables comes twice"},
  };
  for (const auto& c : cases) {
    std::stringstream in(c.text);
    try {
      Import(to_, in);
      ADD_FAILURE() << "imported: " << c.message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << "wanted '" << c.message << "', got: " << e.what();
    }
    std::stringstream check;
    auto after = Export(to_, check);
    for (const auto& [table, n] : after.rows) EXPECT_EQ(n, 0) << table << " after: " << c.message;
  }
}

TEST_P(TransferTest, AnExportOfAnotherSchemaVersionIsRefusedNamingBoth) {
  std::stringstream file;
  Export(from_, file);
  std::string text = file.str();
  text.replace(text.find("\"schema_version\":"), 18, "\"schema_version\":7");
  std::stringstream in(text);
  try {
    Import(to_, in);
    ADD_FAILURE() << "imported another schema version";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "metastore.schema_mismatch");
    EXPECT_NE(std::string(e.what()).find("schema version 7"), std::string::npos) << e.what();
  }
}

std::string PairName(const ::testing::TestParamInfo<std::tuple<Backend, Backend>>& info) {
  return std::get<0>(info.param).name + "_to_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Backends, TransferTest,
                         ::testing::Combine(::testing::ValuesIn(testing::Backends()),
                                            ::testing::ValuesIn(testing::Backends())),
                         PairName);

// A session whose server went away fails each call with pg.connect (and tries again on the next),
// never with a crash.
TEST(PostgresMetastore, AServerThatIsGoneFailsEveryCallAsUnreachable) {
  SLUICE_REQUIRE_POSTGRES();
  auto server = std::make_unique<pg::testing::Server>();
  auto m = Open(server->uri());
  m->StartRun("job", "clean", "manual", "");
  server.reset();
  for (int i = 0; i < 3; ++i) {
    try {
      m->ListRuns({});
      ADD_FAILURE() << "a stopped server answered";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "pg.connect") << e.what();
    }
  }
}

// Every table the migrations create is moved: a migration that adds one must add it to
// kTransferTables too.
TEST(Transfer, MovesEveryTableOfTheSchema) {
  fs::path dir = fs::temp_directory_path() / ("sluice-transfer-" + UniqueSuffix());
  auto core = Connect("sqlite:" + (dir / "m.db").string(), true);
  std::vector<std::string> tables;
  {
    auto lock = core->Lock();
    SqlCore::Statement s(*core,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                         "('schema_version', 'sqlite_sequence') ORDER BY name");
    while (s.Step()) tables.push_back(s.Text(0));
  }
  std::vector<std::string> moved = kTransferTables;
  std::sort(moved.begin(), moved.end());
  EXPECT_EQ(tables, moved);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::meta
