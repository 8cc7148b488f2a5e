#include "examples/retail.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace sluice::examples {
namespace {

TEST(Retail, GeneratesDailyFilesWithTheirDefects) {
  fs::path dir = fs::temp_directory_path() / ("sluice-retail-" + UniqueSuffix());
  auto made = GenerateOrders(dir, {2, 5000, 7});
  EXPECT_EQ(made.files, 2);
  std::string day1 = ReadFile(dir / "data/orders/date=2026-01-01/orders.csv");
  std::string day2 = ReadFile(dir / "data/orders/date=2026-01-02/orders.csv");
  auto lines = Split(day1, '\n');
  EXPECT_EQ(lines[0],
            "OrderID,customer_email,country,product,quantity,amount,order_date,updated_at");
  int short_lines = 0, not_a_number = 0, negative = 0, no_country = 0;
  for (const auto& line : lines) {
    auto f = Split(line, ',');
    if (line.empty()) continue;
    if (f.size() != 8) {
      ++short_lines;
      continue;
    }
    not_a_number += f[5] == "N/A";
    negative += StartsWith(f[5], "-");
    no_country += f[2].empty();
  }
  EXPECT_GT(short_lines, 0);
  EXPECT_GT(not_a_number, 0);
  EXPECT_GT(negative, 0);
  EXPECT_GT(no_country, 0);
  // Corrections of day 1 orders arrive in day 2's file, stamped later that day.
  EXPECT_NE(day2.find("2026-01-01 23:59:59"), std::string::npos);
  // Same seed, same files.
  fs::path again = dir / "again";
  GenerateOrders(again, {2, 5000, 7});
  EXPECT_EQ(ReadFile(again / "data/orders/date=2026-01-01/orders.csv"), day1);
  fs::remove_all(dir);
}

TEST(Retail, GeneratesTheShopDatabaseAndTheApiPages) {
  fs::path dir = fs::temp_directory_path() / ("sluice-retail-" + UniqueSuffix());
  auto made = GenerateShopSources(dir, {50, 150, 7});
  EXPECT_EQ(made.customers, 50);
  EXPECT_EQ(made.review_pages, 2);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "data/shop.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT customer_id) FROM customers",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 50);
  EXPECT_EQ(sqlite3_column_int(st, 1), 50);
  sqlite3_finalize(st);
  sqlite3_close(db);
  auto first = nlohmann::json::parse(ReadFile(dir / "data/reviews/reviews.json"));
  EXPECT_EQ(first["data"].size(), 100u);
  EXPECT_EQ(first["next"], "reviews-2.json");
  auto second = nlohmann::json::parse(ReadFile(dir / "data/reviews/reviews-2.json"));
  EXPECT_EQ(second["data"].size(), 50u);
  EXPECT_TRUE(second["next"].is_null());
  // Same seed, same pages (and a second run replaces the database).
  GenerateShopSources(dir, {50, 150, 7});
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir / "data/reviews/reviews.json")), first);
  fs::remove_all(dir);
}

TEST(Retail, ProjectFilesAreWritten) {
  fs::path dir = fs::temp_directory_path() / ("sluice-retail-" + UniqueSuffix());
  WriteRetailProject(dir);
  for (const char* f : {"sluice.yaml", "sources/orders.yaml", "jobs/clean_orders.yaml",
                        "models/gold/daily_revenue.sql"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::examples
