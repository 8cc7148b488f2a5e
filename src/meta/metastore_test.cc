// The Metastore contract (metastore.h), run against every backend. A new backend adds itself to
// INSTANTIATE_TEST_SUITE_P below and must pass unchanged.
#include "meta/metastore.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "common/error.h"
#include "common/files.h"
#include "meta/sqlite_metastore.h"

namespace sluice::meta {
namespace {

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Metastore>(const fs::path& dir)> make;
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class MetastoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
    fs::create_directories(dir_);
    m_ = GetParam().make(dir_);
  }
  void TearDown() override {
    m_.reset();
    fs::remove_all(dir_);
  }
  TableChange Change(std::vector<std::string> keys, bool remove_all = false) {
    TableChange c{"silver",           "orders", "job", "parquet",  "{}",
                  {{"id", "BIGINT"}}, {},       {},    remove_all, "test"};
    for (auto& k : keys) c.added.push_back({k, 10, "", -1, "active", "", ""});
    return c;
  }
  RunCommit Commit(int64_t run_id, TableChange change) {
    RunCommit c;
    c.run = meta::Run{run_id, "job", "clean", "succeeded", "manual"};
    c.tables.push_back(std::move(change));
    return c;
  }
  fs::path dir_;
  std::unique_ptr<Metastore> m_;
};

TEST_P(MetastoreTest, CommitPublishesVersionsAndFiles) {
  int64_t r1 = m_->StartRun("job", "clean", "manual");
  m_->CommitRun(Commit(r1, Change({"staging/orders/a"})));
  auto t = m_->GetTable("silver", "orders");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->version, 1);
  ASSERT_EQ(t->columns.size(), 1u);
  EXPECT_EQ(t->columns[0].type, "BIGINT");
  int64_t r2 = m_->StartRun("job", "clean", "manual");
  auto c2 = Change({"staging/orders/b"});
  c2.columns.push_back({"amount", "DOUBLE"});
  m_->CommitRun(Commit(r2, c2));
  t = m_->GetTable("silver", "orders");
  EXPECT_EQ(t->version, 2);
  EXPECT_EQ(m_->TableFiles(t->id, 0, false).size(), 2u);
  EXPECT_EQ(m_->TableFiles(t->id, 1, false).size(), 1u);  // time travel
  EXPECT_EQ(m_->TableColumns(t->id, 1).size(), 1u);
  EXPECT_EQ(m_->TableColumns(t->id, 2).size(), 2u);
  int64_t r3 = m_->StartRun("job", "clean", "manual");
  m_->CommitRun(Commit(r3, Change({"staging/orders/c"}, true)));  // overwrite
  auto files = m_->TableFiles(t->id, 0, false);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].key, "staging/orders/c");
  auto versions = m_->TableVersions(t->id);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2].run_id, r3);
}

TEST_P(MetastoreTest, QuarantinedFilesStayOutOfTheTable) {
  int64_t r = m_->StartRun("crawl", "orders", "manual");
  auto c = Change({"landing/orders/a.csv"});
  c.added.push_back({"landing/orders/b.csv", 5, "", -1, "quarantined", "schema drift", ""});
  m_->CommitRun(Commit(r, c));
  auto t = m_->GetTable("silver", "orders");
  EXPECT_EQ(m_->TableFiles(t->id, 0, false).size(), 1u);
  auto all = m_->TableFiles(t->id, 0, true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].reason, "schema drift");
}

TEST_P(MetastoreTest, BookmarksCommitWithTheRunOrNotAtAll) {
  int64_t r1 = m_->StartRun("job", "clean", "manual");
  auto c = Commit(r1, Change({"staging/orders/a"}));
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/1.csv", "landing/orders/2.csv"};
  m_->CommitRun(c);
  EXPECT_EQ(m_->Bookmarks("clean").size(), 2u);
  // A second commit that bookmarks a file again fails as a whole: nothing of it is visible.
  int64_t r2 = m_->StartRun("job", "clean", "manual");
  auto bad = Commit(r2, Change({"staging/orders/b"}));
  bad.bookmark_job = "clean";
  bad.bookmark_keys = {"landing/orders/3.csv", "landing/orders/1.csv"};
  EXPECT_THROW(m_->CommitRun(bad), Error);
  EXPECT_EQ(m_->Bookmarks("clean").size(), 2u);
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
  EXPECT_EQ(m_->GetRun(r2)->status, "running");
}

TEST_P(MetastoreTest, RunsStepsAndChecks) {
  int64_t r = m_->StartRun("job", "clean", "manual");
  auto run = m_->GetRun(r);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, "running");
  meta::Run done{r, "job", "clean", "failed", "manual", run->started_ms, run->started_ms + 5};
  done.error = "boom";
  done.rows_in = 7;
  m_->FinishRun(done, {{r, 0, "transform", "succeeded", 1, 2, 7, ""}},
                {{"silver.orders", "IsComplete \"id\"", "fail", "fail", "1 null", 1, "1 row"}});
  run = m_->GetRun(r);
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(run->error, "boom");
  EXPECT_EQ(run->rows_in, 7);
  EXPECT_EQ(m_->RunSteps(r).size(), 1u);
  ASSERT_EQ(m_->CheckResults(r).size(), 1u);
  EXPECT_EQ(m_->CheckResults(r)[0].failing_rows, 1);
  int64_t r2 = m_->StartRun("crawl", "orders", "manual");
  auto runs = m_->ListRuns({.limit = 10});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, r2);  // newest first
  EXPECT_EQ(m_->ListRuns({.limit = 1}).size(), 1u);
  EXPECT_FALSE(m_->GetRun(9999));
}

TEST_P(MetastoreTest, LandingRegistry) {
  EXPECT_FALSE(m_->FindLanded("orders", "abc"));
  m_->RecordLanded({"orders", "landing/orders/a.csv", "abc", 3, 1});
  auto f = m_->FindLanded("orders", "abc");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->key, "landing/orders/a.csv");
  EXPECT_FALSE(m_->FindLanded("other", "abc"));
}

TEST_P(MetastoreTest, ReopensWithItsData) {
  int64_t r = m_->StartRun("job", "clean", "manual");
  m_->CommitRun(Commit(r, Change({"staging/orders/a"})));
  m_.reset();
  m_ = GetParam().make(dir_);
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, MetastoreTest,
                         ::testing::Values(Backend{"sqlite",
                                                   [](const fs::path& d) {
                                                     return std::unique_ptr<Metastore>(
                                                         new SqliteMetastore(d / "meta.db"));
                                                   }}),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteMetastore, MigratesToTheNewestSchema) {
  fs::path dir = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
  SqliteMetastore m(dir / "m.db");
  EXPECT_GE(m.schema_version(), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::meta
