#include "catalog/vacuum.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/local_store.h"
#include "meta/sql_metastore.h"

namespace sluice::catalog {
namespace {

namespace fs = std::filesystem;

class VacuumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-vacuum-" + UniqueSuffix());
    store_ = std::make_unique<lake::LocalStore>(dir_ / "lake");
    metastore_ = std::make_unique<meta::SqliteMetastore>(dir_ / "meta.db");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Publishes the next version of `db`.`name` with `key` as its only file.
  void Publish(const std::string& key, const std::string& db = "silver",
               const std::string& name = "orders") {
    store_->Put(key, "rows");
    meta::RunCommit c;
    c.run = {metastore_->StartRun("job", "clean", "manual", ""), "job", "clean",
             meta::RunStatus::kSucceeded, "manual"};
    meta::TableChange t{db, name, "job", "parquet", "{}", {{"id", "BIGINT"}}};
    t.added.push_back({key, 4, "", -1, meta::FileStatus::kActive, "", ""});
    t.remove_all = true;
    c.tables.push_back(t);
    metastore_->CommitRun(c);
  }

  fs::path dir_;
  std::unique_ptr<lake::LocalStore> store_;
  std::unique_ptr<meta::Metastore> metastore_;
};

TEST_F(VacuumTest, KeepsTheFilesOfARunInFlightAndWhatWasLandedAside) {
  Publish("staging/orders/part-1-0.parquet");
  Publish("staging/orders/part-2-0.parquet");
  // A run still running wrote its file and has not committed yet; another died doing so.
  int64_t running = metastore_->StartRun("job", "clean", "manual", "");
  store_->Put(fmt::format("staging/orders/part-{}-0.parquet", running), "rows");
  store_->Put("staging/orders/part-999-0.parquet", "rows");
  // The bytes of a removed landed file, where a job named "landing" would keep its quarantine.
  Publish("quarantine/landing/part-1-0.parquet", "quarantine", "landing");
  store_->Put("quarantine/landing/orders/removed-1/a.csv", "a\n1\n");

  VacuumOptions later{0, true, NowMs() + 60000};
  auto report = Vacuum(*metastore_, *store_, later);
  EXPECT_EQ(report.versions(), 1u);
  ASSERT_EQ(report.orphans.size(), 1u);
  EXPECT_EQ(report.orphans[0].key, "staging/orders/part-999-0.parquet");
  ASSERT_EQ(report.in_flight.size(), 1u);
  EXPECT_TRUE(store_->Stat(report.in_flight[0]));
  EXPECT_FALSE(store_->Stat("staging/orders/part-1-0.parquet"));
  EXPECT_FALSE(store_->Stat("staging/orders/part-999-0.parquet"));
  EXPECT_TRUE(store_->Stat("staging/orders/part-2-0.parquet"));
  EXPECT_TRUE(store_->Stat("quarantine/landing/orders/removed-1/a.csv"));
  EXPECT_EQ(metastore_->GetRun(report.run_id)->status, meta::RunStatus::kSucceeded);
}

TEST_F(VacuumTest, ListsWithoutRemovingAndKeepsWhatIsYoungerThanTheRetention) {
  Publish("staging/orders/part-1-0.parquet");
  Publish("staging/orders/part-2-0.parquet");
  auto plan = Vacuum(*metastore_, *store_, {0, false, NowMs() + 60000});
  EXPECT_EQ(plan.versions(), 1u);
  EXPECT_EQ(plan.files(), 1u);
  EXPECT_EQ(plan.run_id, 0);
  EXPECT_TRUE(store_->Stat("staging/orders/part-1-0.parquet"));
  EXPECT_EQ(metastore_->TableVersions(metastore_->GetTable("silver", "orders")->id).size(), 2u);
  // With a day's retention, both versions are younger: nothing goes.
  auto kept = Vacuum(*metastore_, *store_, {86400000, true, 0});
  EXPECT_EQ(kept.versions(), 0u);
  EXPECT_EQ(kept.files(), 0u);
  EXPECT_TRUE(store_->Stat("staging/orders/part-1-0.parquet"));
}

}  // namespace
}  // namespace sluice::catalog
