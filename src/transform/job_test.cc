// Jobs against real backends, with faults injected into the metastore commit.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <utility>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "catalog/ingest.h"
#include "common/error.h"
#include "lake/faulty_store.h"
#include "lake/local_store.h"
#include "lake/zones.h"
#include "meta/sql_metastore.h"
#include "transform/run.h"

namespace sluice::transform {
namespace {

// A metastore whose CommitRun fails while `fail` is set: the moment after a job has written its
// files and before they are published.
class FailingCommit : public meta::SqliteMetastore {
 public:
  using SqliteMetastore::SqliteMetastore;
  void CommitRun(const meta::RunCommit& commit) override {
    if (fail) throw Error(ErrorKind::kIo, "injected: metastore unreachable");
    if (auto before = std::exchange(before_commit, nullptr)) before();
    SqliteMetastore::CommitRun(commit);
  }
  bool fail = false;
  // Runs once, just before the next commit: another process's work in between.
  std::function<void()> before_commit;
};

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sluice-job-" + UniqueSuffix());
    WriteFileAtomic(root_ / "sluice.yaml", "project: t\n");
    WriteFileAtomic(root_ / "sources/orders.yaml", "source: orders\n");
    WriteFileAtomic(root_ / "jobs/clean.yaml",
                    "job: clean\ninput: bronze.orders\nincremental: true\n"
                    "output: { table: silver.orders, mode: append }\n"
                    "steps:\n  - filter: \"amount > 0\"\n");
    WriteFileAtomic(root_ / "in/a.csv", "id,amount\n1,5\n2,-1\n3,7\n");
    project::Diagnostics d;
    ws_.project = project::Load(root_, "dev", d);
    ASSERT_TRUE(d.empty());
    ws_.store = std::make_unique<lake::LocalStore>(root_ / "lake");
    auto m = std::make_unique<FailingCommit>(root_ / ".sluice/dev.db");
    meta_ = m.get();
    ws_.metastore = std::move(m);
    catalog::Ingest("orders", {(root_ / "in").string()}, *ws_.store, *ws_.metastore);
    engine::Database db;
    engine::Connection conn(db);
    catalog::Crawl(ws_.project.sources.at("orders"), "", *ws_.store, *ws_.metastore, conn);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  Workspace ws_;
  FailingCommit* meta_ = nullptr;
};

TEST_F(JobTest, AFailedCommitPublishesNothingAndTheRerunCountsOnce) {
  meta_->fail = true;
  EXPECT_THROW(RunJob(ws_, ws_.project.jobs.at("clean"), {}), Error);
  EXPECT_FALSE(ws_.metastore->GetTable("silver", "orders"));
  EXPECT_TRUE(ws_.metastore->Bookmarks("clean").empty());
  auto failed = ws_.metastore->ListRuns({.limit = 1}).front();
  EXPECT_EQ(failed.status, meta::RunStatus::kFailed);
  EXPECT_NE(failed.error.find("injected"), std::string::npos);
  // No scratch output is left behind.
  EXPECT_TRUE(lake::ListAll(*ws_.store, "_scratch/").empty());

  meta_->fail = false;
  auto report = RunJob(ws_, ws_.project.jobs.at("clean"), {});
  EXPECT_EQ(report.rows_out, 2);
  EXPECT_EQ(report.rows_filtered, 1);
  auto table = ws_.metastore->GetTable("silver", "orders");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->version, 1);
  EXPECT_EQ(ws_.metastore->TableFiles(table->id, 0, false).size(), 1u);
  // Nothing new: a second run changes nothing.
  auto again = RunJob(ws_, ws_.project.jobs.at("clean"), {});
  EXPECT_EQ(again.version, 0);
  EXPECT_EQ(ws_.metastore->GetTable("silver", "orders")->version, 1);
}

// Two runs of one merge job at once, from two processes: the one that commits second finds the
// output moved and its files' bookmarks taken (publish.conflict), reads again and finishes. Every
// batch is in the table once, and neither run failed.
TEST_F(JobTest, ARunThatLosesThePublishRaceReadsAgainAndLosesNoRows) {
  WriteFileAtomic(root_ / "jobs/latest.yaml",
                  "job: latest\ninput: bronze.orders\nincremental: true\n"
                  "output: { table: silver.latest, mode: merge, key: [id] }\n");
  project::Diagnostics d;
  ws_.project = project::Load(root_, "dev", d);
  ASSERT_TRUE(d.empty());
  const auto& job = ws_.project.jobs.at("latest");
  // The other process: its own metastore connection on the same file, the same lake.
  Workspace other = ws_;
  other.metastore = std::make_shared<meta::SqliteMetastore>(root_ / ".sluice/dev.db");
  meta_->before_commit = [&] {
    WriteFileAtomic(root_ / "in2/b.csv", "id,amount\n3,70\n4,9\n");
    catalog::Ingest("orders", {(root_ / "in2").string()}, *other.store, *other.metastore);
    engine::Database db;
    engine::Connection conn(db);
    catalog::Crawl(other.project.sources.at("orders"), "", *other.store, *other.metastore, conn);
    auto first = RunJob(other, job, {});
    EXPECT_EQ(first.rows_in, 5);  // a.csv, which this run has not committed yet, and b.csv
    EXPECT_EQ(first.version, 1);
  };
  auto second = RunJob(ws_, job, {});
  EXPECT_EQ(second.status, meta::RunStatus::kSucceeded);
  EXPECT_EQ(second.message, "no new files since the last run; nothing changed");
  auto logs = ws_.metastore->Logs(second.run_id, 0, 100);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs[0].message.find("attempt 2 of 5 starts over"), std::string::npos)
      << logs[0].message;
  auto table = ws_.metastore->GetTable("silver", "latest");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->version, 1);
  EXPECT_EQ(ws_.metastore->Bookmarks("latest").size(), 2u);
  for (const auto& run : ws_.metastore->ListRuns({.kind = "job"})) {
    EXPECT_EQ(run.status, meta::RunStatus::kSucceeded) << run.id;
  }
}

// The lake fails while a job publishes its output: the catalog still lists the previous version,
// whose files are all still there, and a rerun publishes the new rows once.
TEST_F(JobTest, AStoreFailingWhilePublishingKeepsThePreviousVersion) {
  RunJob(ws_, ws_.project.jobs.at("clean"), {});
  auto before = ws_.metastore->GetTable("silver", "orders");
  ASSERT_TRUE(before);
  auto files = ws_.metastore->TableFiles(before->id, before->version, false);
  WriteFileAtomic(root_ / "in2/b.csv", "id,amount\n9,2\n");
  catalog::Ingest("orders", {(root_ / "in2").string()}, *ws_.store, *ws_.metastore);
  engine::Database db;
  engine::Connection conn(db);
  catalog::Crawl(ws_.project.sources.at("orders"), "", *ws_.store, *ws_.metastore, conn);
  auto faulty = std::make_shared<lake::FaultyStore>(ws_.store);
  ws_.store = faulty;
  faulty->FailNth(lake::Call::kPutFile, 1);
  EXPECT_THROW(RunJob(ws_, ws_.project.jobs.at("clean"), {}), Error);
  auto after = ws_.metastore->GetTable("silver", "orders");
  EXPECT_EQ(after->version, before->version);
  for (const auto& f : ws_.metastore->TableFiles(after->id, after->version, false)) {
    EXPECT_TRUE(ws_.store->Stat(f.key)) << f.key << " is listed but gone";
  }
  EXPECT_EQ(ws_.metastore->TableFiles(after->id, after->version, false).size(), files.size());

  auto report = RunJob(ws_, ws_.project.jobs.at("clean"), {});
  EXPECT_EQ(report.rows_out, 1);
  EXPECT_EQ(ws_.metastore->GetTable("silver", "orders")->version, before->version + 1);
}

// The objects under a table's prefix that its current version does not list: what a failed
// publish would leave behind.
std::vector<std::string> Unlisted(Workspace& ws, const std::string& db, const std::string& name) {
  std::set<std::string> listed;
  if (auto t = ws.metastore->GetTable(db, name)) {
    for (const auto& f : ws.metastore->TableFiles(t->id, t->version, true)) listed.insert(f.key);
  }
  std::vector<std::string> out;
  for (const auto& o : lake::ListAll(*ws.store, lake::zones::TablePrefix(db, name))) {
    if (!listed.count(o.key)) out.push_back(o.key);
  }
  return out;
}

// The lake stores the output file but its answer is lost: the job fails, the table stays on its
// version, the object it put is deleted again, and a rerun publishes.
TEST_F(JobTest, APutFileWhoseAnswerIsLostLeavesNoOrphan) {
  auto faulty = std::make_shared<lake::FaultyStore>(ws_.store);
  ws_.store = faulty;
  faulty->FailNthAfter(lake::Call::kPutFile, 1);
  EXPECT_THROW(RunJob(ws_, ws_.project.jobs.at("clean"), {}), Error);
  EXPECT_FALSE(ws_.metastore->GetTable("silver", "orders"));
  EXPECT_EQ(Unlisted(ws_, "silver", "orders"), std::vector<std::string>{});
  auto report = RunJob(ws_, ws_.project.jobs.at("clean"), {});
  EXPECT_EQ(report.rows_out, 2);
  EXPECT_EQ(ws_.metastore->GetTable("silver", "orders")->version, 1);
  EXPECT_EQ(Unlisted(ws_, "silver", "orders"), std::vector<std::string>{});
}

// The output is put, then writing the quarantine table fails: the output's files go again, and
// neither table gains a version.
TEST_F(JobTest, AFailedQuarantineWriteDiscardsTheOutputFiles) {
  // Rows with a negative amount go to quarantine.clean instead of being filtered.
  WriteFileAtomic(root_ / "jobs/clean.yaml",
                  "job: clean\ninput: bronze.orders\n"
                  "output: { table: silver.orders, mode: append }\n"
                  "checks:\n  - rules: 'Rules = [ ColumnValues \"amount\" > 0 ]'\n"
                  "    on_fail: quarantine\n");
  project::Diagnostics d;
  ws_.project = project::Load(root_, "dev", d);
  ASSERT_TRUE(d.empty()) << d.items().front().str();
  auto faulty = std::make_shared<lake::FaultyStore>(ws_.store);
  ws_.store = faulty;
  faulty->FailNth(lake::Call::kPutFile, 2);
  EXPECT_THROW(RunJob(ws_, ws_.project.jobs.at("clean"), {}), Error);
  EXPECT_FALSE(ws_.metastore->GetTable("silver", "orders"));
  EXPECT_FALSE(ws_.metastore->GetTable("quarantine", "clean"));
  EXPECT_EQ(Unlisted(ws_, "silver", "orders"), std::vector<std::string>{});
  EXPECT_EQ(Unlisted(ws_, "quarantine", "clean"), std::vector<std::string>{});
  auto report = RunJob(ws_, ws_.project.jobs.at("clean"), {});
  EXPECT_EQ(report.rows_quarantined, 1);
  EXPECT_EQ(ws_.metastore->GetTable("quarantine", "clean")->version, 1);
}

// What `sluice check` takes from a Parquet table's footers: over every file, the NULL counts and
// the least and greatest values; nothing for a CSV table.
TEST_F(JobTest, FooterFactsSpanEveryFileOfTheTable) {
  RunJob(ws_, ws_.project.jobs.at("clean"), {});
  WriteFileAtomic(root_ / "in2/b.csv", "id,amount\n9,2\n");
  catalog::Ingest("orders", {(root_ / "in2").string()}, *ws_.store, *ws_.metastore);
  engine::Database db;
  engine::Connection conn(db);
  catalog::Crawl(ws_.project.sources.at("orders"), "", *ws_.store, *ws_.metastore, conn);
  RunJob(ws_, ws_.project.jobs.at("clean"), {});
  lake::Fetched held;
  catalog::AttachTables(conn, *ws_.metastore, *ws_.store, held);
  auto facts = catalog::AttachWithFacts(conn, *ws_.metastore, *ws_.store, "silver", "orders", held);
  ASSERT_EQ(facts.size(), 2u);
  EXPECT_EQ(facts["id"].nulls, 0);
  EXPECT_EQ(facts["id"].min, "CAST('1' AS BIGINT)");
  EXPECT_EQ(facts["id"].max, "CAST('9' AS BIGINT)");  // the second file's
  EXPECT_EQ(facts["amount"].min, "CAST('2' AS BIGINT)");
  EXPECT_EQ(facts["amount"].max, "CAST('7' AS BIGINT)");
  EXPECT_TRUE(
      catalog::AttachWithFacts(conn, *ws_.metastore, *ws_.store, "bronze", "orders", held).empty());
}

TEST_F(JobTest, CompileErrorsNameTheStep) {
  auto job = ws_.project.jobs.at("clean");
  job.steps.push_back(job.steps.front());
  job.steps.back().text = "no_such_column > 1";
  try {
    RunJob(ws_, job, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("jobs/clean.yaml:6:5: step 2 (filter) of job clean"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sluice::transform
