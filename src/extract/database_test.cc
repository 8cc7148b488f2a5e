#include "extract/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/error.h"
#include "common/files.h"
#include "common/process.h"

namespace sluice::extract {
namespace {

using Fields = std::vector<std::optional<std::string>>;

TEST(ParseCsvRow, ReadsPostgresCsvRows) {
  EXPECT_EQ(ParseCsvRow("1,,1.00\n"), (Fields{"1", std::nullopt, "1.00"}));
  // An empty text is quoted; NULL is not.
  EXPECT_EQ(ParseCsvRow("\"\",\n"), (Fields{"", std::nullopt}));
  EXPECT_EQ(ParseCsvRow("\"two\nlines, \"\"q\"\"\",x\r\n"), (Fields{"two\nlines, \"q\"", "x"}));
  EXPECT_EQ(ParseCsvRow("\n"), (Fields{std::nullopt}));
  for (const char* bad : {"\"open\n", "\"x\"y\n", "a\"b\n"}) {
    try {
      ParseCsvRow(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "extract.bad_row");
    }
  }
}

class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = fs::temp_directory_path() / ("sluice-sqlite-source-" + UniqueSuffix() + ".db");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE t (id INTEGER, name TEXT, price DECIMAL(8,2), "
                           "big DECIMAL(40,2), r DOUBLE PRECISION, b BLOB, ok BOOL, d DATE, "
                           "at TIMESTAMP, n NUMERIC, x);"
                           "INSERT INTO t VALUES (1, 'a\"b', 1.5, 1, 0.5, x'00ff', 1, "
                           "'2024-01-01', '2024-01-01 10:00:00', 7, NULL);"
                           "INSERT INTO t (id, name) VALUES (2, NULL)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  void TearDown() override { fs::remove(file_); }
  fs::path file_;
};

TEST_F(SqliteSourceTest, MapsDeclaredTypesAndWritesCsvRows) {
  auto db = OpenSqliteSource(file_);
  auto columns = db->Describe("t AS s");
  std::vector<std::string> types;
  for (const auto& c : columns) types.push_back(c.name + " " + c.lake_type);
  EXPECT_EQ(types, (std::vector<std::string>{"id BIGINT", "name VARCHAR", "price DECIMAL(8,2)",
                                             "big VARCHAR", "r DOUBLE", "b BLOB", "ok BOOLEAN",
                                             "d DATE", "at TIMESTAMP", "n VARCHAR", "x VARCHAR"}));
  std::vector<std::string> rows;
  auto last = db->Read("SELECT * FROM t AS s ORDER BY id", columns, {0},
                       [&](std::string_view row) { rows.emplace_back(row); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            "1,\"a\"\"b\",1.5,1,0.5,\"\\x00ff\",1,\"2024-01-01\",\"2024-01-01 10:00:00\",7,\n");
  EXPECT_EQ(rows[1], "2,,,,,,,,,,\n");
  EXPECT_EQ(nlohmann::json(last).dump(), "[2]");
}

TEST_F(SqliteSourceTest, BoundValuesKeepTheirStorageClass) {
  auto db = OpenSqliteSource(file_);
  auto columns = db->Describe("t AS s");
  auto last =
      db->Read("SELECT * FROM t AS s WHERE id = 1", columns, {0, 1, 4}, [](std::string_view) {});
  EXPECT_EQ(nlohmann::json(last).dump(), R"([1,"a\"b",0.5])");
  try {
    db->Read("SELECT * FROM t AS s ORDER BY id", columns, {1}, [](std::string_view) {});
    ADD_FAILURE() << "a NULL key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "extract.bad_key");
  }
  // A BLOB where the declared type is not BLOB fails, never lands as other text.
  try {
    db->Read("SELECT b AS name FROM t AS s", {columns[1]}, {}, [](std::string_view) {});
    ADD_FAILURE() << "a BLOB landed as text";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "extract.bad_value");
  }
}

TEST_F(SqliteSourceTest, OpensReadOnly) {
  auto db = OpenSqliteSource(file_);
  auto columns = db->Describe("t AS s");
  try {
    db->Read("DELETE FROM t RETURNING id", {columns[0]}, {}, [](std::string_view) {});
    ADD_FAILURE() << "a DELETE ran";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "extract.database");
  }
  try {
    OpenSqliteSource(file_.string() + ".missing");
    ADD_FAILURE() << "a missing file opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
  }
}

}  // namespace
}  // namespace sluice::extract
