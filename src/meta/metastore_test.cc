// The Metastore contract (metastore.h), run against every backend. A new backend adds itself to
// INSTANTIATE_TEST_SUITE_P below and must pass unchanged.
#include "meta/metastore.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "common/time.h"
#include "meta/sql_metastore.h"
#include "meta/testing/backends.h"

namespace sluice::meta {
namespace {

using testing::Backend;

class MetastoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    SLUICE_REQUIRE_BACKEND(GetParam());
    dir_ = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
    fs::create_directories(dir_);
    m_ = Open(GetParam().uri(dir_));
  }
  void TearDown() override {
    m_.reset();
    fs::remove_all(dir_);
  }
  TableChange Change(std::vector<std::string> keys, bool remove_all = false) {
    TableChange c{"silver",           "orders", "job", "parquet",  "{}",
                  {{"id", "BIGINT"}}, {},       {},    remove_all, "test"};
    for (auto& k : keys) c.added.push_back({k, 10, "", -1, FileStatus::kActive, "", ""});
    return c;
  }
  RunCommit Commit(int64_t run_id, TableChange change) {
    RunCommit c;
    c.run = meta::Run{run_id, "job", "clean", meta::RunStatus::kSucceeded, "manual"};
    c.tables.push_back(std::move(change));
    return c;
  }
  fs::path dir_;
  std::unique_ptr<Metastore> m_;
};

TEST_P(MetastoreTest, CommitPublishesVersionsAndFiles) {
  int64_t r1 = m_->StartRun("job", "clean", "manual", "");
  m_->CommitRun(Commit(r1, Change({"staging/orders/a"})));
  auto t = m_->GetTable("silver", "orders");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->version, 1);
  ASSERT_EQ(t->columns.size(), 1u);
  EXPECT_EQ(t->columns[0].type, "BIGINT");
  int64_t r2 = m_->StartRun("job", "clean", "manual", "");
  auto c2 = Change({"staging/orders/b"});
  c2.columns.push_back({"amount", "DOUBLE"});
  m_->CommitRun(Commit(r2, c2));
  t = m_->GetTable("silver", "orders");
  EXPECT_EQ(t->version, 2);
  EXPECT_EQ(m_->TableFiles(t->id, 0, false).size(), 2u);
  EXPECT_EQ(m_->TableFiles(t->id, 1, false).size(), 1u);  // time travel
  EXPECT_EQ(m_->TableColumns(t->id, 1).size(), 1u);
  EXPECT_EQ(m_->TableColumns(t->id, 2).size(), 2u);
  int64_t r3 = m_->StartRun("job", "clean", "manual", "");
  m_->CommitRun(Commit(r3, Change({"staging/orders/c"}, true)));  // overwrite
  auto files = m_->TableFiles(t->id, 0, false);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].key, "staging/orders/c");
  auto versions = m_->TableVersions(t->id);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[2].run_id, r3);
}

TEST_P(MetastoreTest, ARunStoppedByAnInterruptionIsCancelledAndByAnythingElseFailed) {
  int64_t a = m_->StartRun("job", "clean", "manual", "");
  int64_t b = m_->StartRun("job", "clean", "manual", "");
  m_->StopRun(*m_->GetRun(a), Error(ErrorKind::kInterrupted, "interrupted by the user"),
              "interrupted by the user");
  m_->StopRun(*m_->GetRun(b), std::runtime_error("disk full"), "disk full");
  EXPECT_EQ(m_->GetRun(a)->status, RunStatus::kCancelled);
  EXPECT_EQ(m_->GetRun(a)->error, "interrupted by the user");
  EXPECT_GT(m_->GetRun(a)->ended_ms, 0);
  EXPECT_EQ(m_->GetRun(b)->status, RunStatus::kFailed);
}

TEST_P(MetastoreTest, QuarantinedFilesStayOutOfTheTable) {
  int64_t r = m_->StartRun("crawl", "orders", "manual", "");
  auto c = Change({"landing/orders/a.csv"});
  c.added.push_back(
      {"landing/orders/b.csv", 5, "", -1, FileStatus::kQuarantined, "schema drift", ""});
  m_->CommitRun(Commit(r, c));
  auto t = m_->GetTable("silver", "orders");
  EXPECT_EQ(m_->TableFiles(t->id, 0, false).size(), 1u);
  auto all = m_->TableFiles(t->id, 0, true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].reason, "schema drift");
}

TEST_P(MetastoreTest, BookmarksCommitWithTheRunOrNotAtAll) {
  int64_t r1 = m_->StartRun("job", "clean", "manual", "");
  auto c = Commit(r1, Change({"staging/orders/a"}));
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/1.csv", "landing/orders/2.csv"};
  m_->CommitRun(c);
  EXPECT_EQ(m_->Bookmarks("clean").size(), 2u);
  // A second commit that bookmarks a file again fails as a whole: nothing of it is visible.
  int64_t r2 = m_->StartRun("job", "clean", "manual", "");
  auto bad = Commit(r2, Change({"staging/orders/b"}));
  bad.bookmark_job = "clean";
  bad.bookmark_keys = {"landing/orders/3.csv", "landing/orders/1.csv"};
  EXPECT_THROW(m_->CommitRun(bad), Error);
  EXPECT_EQ(m_->Bookmarks("clean").size(), 2u);
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
  EXPECT_EQ(m_->GetRun(r2)->status, meta::RunStatus::kRunning);
}

TEST_P(MetastoreTest, PruningRemovesOldVersionsAndTheFilesOnlyTheyListed) {
  auto commit = [&](std::vector<std::string> keys, bool remove_all) {
    m_->CommitRun(Commit(m_->StartRun("job", "clean", "manual", ""), Change(keys, remove_all)));
  };
  commit({"staging/orders/a", "landing/orders/x.csv"}, false);  // version 1
  commit({"staging/orders/b"}, false);                          // version 2
  commit({"staging/orders/c"}, true);                           // version 3: a rebuild
  auto t = m_->GetTable("silver", "orders");
  ASSERT_EQ(t->version, 3);
  // Asked without applying: what would go, and nothing changes.
  auto plan = m_->PruneVersions(t->id, 3, std::string("staging/orders/"), false);
  EXPECT_EQ(plan.versions, (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(plan.files.size(), 2u);  // a and b; the landed file is outside the table's zone
  EXPECT_EQ(plan.files[0].key, "staging/orders/a");
  EXPECT_EQ(m_->TableVersions(t->id).size(), 3u);
  EXPECT_EQ(m_->FileKeysUnder("staging/orders/").size(), 3u);
  // Applied, past the current version: the current version stays.
  auto done = m_->PruneVersions(t->id, 99, std::string("staging/orders/"), true);
  EXPECT_EQ(done.versions, (std::vector<int64_t>{1, 2}));
  auto versions = m_->TableVersions(t->id);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].version, 3);
  EXPECT_EQ(m_->FileKeysUnder("staging/orders/"), std::set<std::string>{"staging/orders/c"});
  EXPECT_EQ(m_->FileKeysUnder("landing/"), std::set<std::string>{"landing/orders/x.csv"});
  EXPECT_EQ(m_->TableFiles(t->id).size(), 1u);
  EXPECT_EQ(m_->TableColumns(t->id, 0).size(), 1u);
  // Nothing left to prune; a missing table is nothing too.
  EXPECT_TRUE(m_->PruneVersions(t->id, 3, std::string("staging/orders/"), true).versions.empty());
  EXPECT_TRUE(m_->PruneVersions(12345, 3, std::nullopt, true).versions.empty());
}

TEST_P(MetastoreTest, ADropForgetsTheTableAndItsJobsBookmarksAtOnce) {
  auto c = Commit(m_->StartRun("job", "clean", "manual", ""), Change({"staging/orders/a"}));
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/1.csv"};
  m_->CommitRun(c);
  m_->CommitRun(Commit(m_->StartRun("job", "clean", "manual", ""), Change({"staging/orders/b"})));
  TableDrop stale{"silver", "orders", 1, "clean",
                  meta::Run{m_->StartRun("drop", "silver.orders", "manual", ""), "drop",
                            "silver.orders", meta::RunStatus::kSucceeded, "manual"}};
  // Built on version 1 while the table is at 2: a lost race, nothing dropped.
  try {
    m_->DropTable(stale);
    ADD_FAILURE() << "a stale drop went through";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }
  EXPECT_TRUE(m_->GetTable("silver", "orders"));
  EXPECT_EQ(m_->Bookmarks("clean").size(), 1u);
  TableDrop drop = stale;
  drop.base_version = 2;
  auto files = m_->DropTable(drop);
  EXPECT_EQ(files.size(), 2u);  // every version's files
  EXPECT_FALSE(m_->GetTable("silver", "orders"));
  EXPECT_TRUE(m_->Bookmarks("clean").empty());
  EXPECT_TRUE(m_->FileKeysUnder("staging/").empty());
  EXPECT_EQ(m_->GetRun(drop.run.id)->status, meta::RunStatus::kSucceeded);
  // Dropped already: the second drop lost.
  EXPECT_THROW(m_->DropTable(drop), Error);
  // The name may be used again, from version 1.
  m_->CommitRun(Commit(m_->StartRun("job", "clean", "manual", ""), Change({"staging/orders/c"})));
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
}

TEST_P(MetastoreTest, AResetMakesTheBookmarksExactlyTheCommittedOnes) {
  RunCommit other;
  other.run = meta::Run{m_->StartRun("job", "other", "manual", ""), "job", "other",
                        meta::RunStatus::kSucceeded, "manual"};
  other.bookmark_job = "other";
  other.bookmark_keys = {"landing/orders/1.csv"};
  m_->CommitRun(other);
  int64_t r1 = m_->StartRun("job", "clean", "manual", "");
  auto c = Commit(r1, Change({"staging/orders/a"}));
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/1.csv", "landing/orders/2.csv"};
  m_->CommitRun(c);
  int64_t r2 = m_->StartRun("job", "clean", "manual", "");
  auto refresh = Commit(r2, Change({"staging/orders/b"}));
  refresh.tables[0].base_version = 1;
  refresh.bookmark_job = "clean";
  refresh.bookmark_keys = {"landing/orders/2.csv", "landing/orders/3.csv"};
  refresh.bookmarks_reset = true;
  m_->CommitRun(refresh);
  EXPECT_EQ(m_->Bookmarks("clean"),
            (std::set<std::string>{"landing/orders/2.csv", "landing/orders/3.csv"}));
  // Other jobs' bookmarks are theirs.
  EXPECT_EQ(m_->Bookmarks("other"), std::set<std::string>{"landing/orders/1.csv"});
}

TEST_P(MetastoreTest, RunsStepsAndChecks) {
  int64_t r = m_->StartRun("job", "clean", "manual", "");
  auto run = m_->GetRun(r);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, meta::RunStatus::kRunning);
  meta::Run done{
      r, "job", "clean", meta::RunStatus::kFailed, "manual", run->started_ms, run->started_ms + 5};
  done.error = "boom";
  done.rows_in = 7;
  m_->FinishRun(done, {{r, 0, "transform", "succeeded", 1, 2, 7, ""}},
                {{"silver.orders", "IsComplete \"id\"", "fail", "fail", "1 null", 1, "1 row"}});
  run = m_->GetRun(r);
  EXPECT_EQ(run->status, meta::RunStatus::kFailed);
  EXPECT_EQ(run->error, "boom");
  EXPECT_EQ(run->rows_in, 7);
  EXPECT_EQ(m_->RunSteps(r).size(), 1u);
  ASSERT_EQ(m_->CheckResults(r).size(), 1u);
  EXPECT_EQ(m_->CheckResults(r)[0].failing_rows, 1);
  int64_t r2 = m_->StartRun("crawl", "orders", "manual", "");
  auto runs = m_->ListRuns({.limit = 10});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, r2);  // newest first
  EXPECT_EQ(m_->ListRuns({.limit = 1}).size(), 1u);
  EXPECT_FALSE(m_->GetRun(9999));
}

TEST_P(MetastoreTest, RunFilters) {
  int64_t a = m_->StartRun("job", "clean", "manual", "");
  meta::Run wf;
  wf.kind = "workflow";
  wf.name = "orders";
  wf.trigger = "api";
  int64_t b = m_->EnqueueRun(wf);
  wf.parent_run_id = b;
  int64_t c = m_->EnqueueRun(wf);
  EXPECT_EQ(m_->ListRuns({.kind = "workflow"}).size(), 2u);
  EXPECT_EQ(m_->ListRuns({.statuses = {meta::RunStatus::kQueued}, .top_level = true}).front().id,
            b);
  EXPECT_EQ(m_->ListRuns({.name = "clean"}).front().id, a);
  EXPECT_EQ(m_->ListRuns({.trigger = "api", .before_id = c}).front().id, b);
  EXPECT_EQ(m_->GetRun(c)->parent_run_id, b);
  EXPECT_EQ(m_->GetRun(b)->started_ms, 0);  // not started while queued
}

TEST_P(MetastoreTest, ArrivalsStartWorkOnce) {
  meta::Run run;
  run.kind = "workflow";
  run.name = "load";
  auto files = [](const std::vector<std::string>& fresh) {
    return "{\"n\": " + std::to_string(fresh.size()) + "}";
  };
  int64_t first = m_->EnqueueArrivals("load", {"landing/o/1.csv", "landing/o/2.csv"}, run, files);
  EXPECT_GT(first, 0);
  EXPECT_EQ(m_->GetRun(first)->params, "{\"n\": 2}");
  EXPECT_EQ(m_->EnqueueArrivals("load", {"landing/o/2.csv", "landing/o/1.csv"}, run, files), 0);
  int64_t second = m_->EnqueueArrivals("load", {"landing/o/2.csv", "landing/o/3.csv"}, run, files);
  EXPECT_EQ(m_->GetRun(second)->params, "{\"n\": 1}");
  EXPECT_EQ(m_->ArrivedKeys("load").size(), 3u);
  EXPECT_TRUE(m_->ArrivedKeys("other").empty());
  // Another workflow on the same source starts its own work.
  EXPECT_GT(m_->EnqueueArrivals("audit", {"landing/o/1.csv"}, run, files), 0);
}

TEST_P(MetastoreTest, ClaimCancelRequeueAndRedrive) {
  meta::Run wf;
  wf.kind = "workflow";
  wf.name = "w";
  int64_t id = m_->EnqueueRun(wf);
  EXPECT_TRUE(m_->ClaimRun(id, "me"));
  EXPECT_FALSE(m_->ClaimRun(id, "someone else"));
  EXPECT_EQ(m_->GetRun(id)->owner, "me");
  EXPECT_GT(m_->GetRun(id)->started_ms, 0);
  m_->RequeueRun(id);
  EXPECT_EQ(m_->GetRun(id)->status, meta::RunStatus::kQueued);
  EXPECT_TRUE(m_->ClaimRun(id, "me"));
  EXPECT_FALSE(m_->RedriveRun(id, std::nullopt));  // running: nothing to redrive
  EXPECT_TRUE(m_->RequestCancel(id)->cancel_requested);
  EXPECT_EQ(m_->GetRun(id)->status, meta::RunStatus::kRunning);  // the executor ends it
  m_->BeginAttempt(id, "load", "job", 1);
  m_->EndAttempt({id, "load", 1, meta::AttemptStatus::kFailed, 0, 0, "io", "disk full"},
                 meta::StepStatus::kFailed, "{}");
  m_->BeginAttempt(id, "fan", "parallel", 1);
  m_->EndAttempt({id, "fan", 1, meta::AttemptStatus::kFailed}, meta::StepStatus::kFailed, "{}");
  auto run = *m_->GetRun(id);
  run.status = meta::RunStatus::kFailed;
  m_->FinishRun(run, {}, {});
  EXPECT_TRUE(m_->RedriveRun(id, std::nullopt));
  EXPECT_EQ(m_->GetRun(id)->status, meta::RunStatus::kQueued);
  EXPECT_FALSE(m_->GetRun(id)->cancel_requested);
  std::map<std::string, meta::StepStatus> steps;
  for (const auto& s : m_->Steps(id)) steps[s.path] = s.status;
  EXPECT_EQ(steps["load"], meta::StepStatus::kRetrying);
  EXPECT_EQ(steps["fan"], meta::StepStatus::kRunning);
  int64_t queued = m_->EnqueueRun(wf);
  EXPECT_EQ(m_->RequestCancel(queued)->status, meta::RunStatus::kCancelled);
  EXPECT_FALSE(m_->RequestCancel(424242));
}

// A retried run's steps count their time from the retry; a step retried by its own rule within
// a run keeps the start of its first attempt. A retry may bring the run new definitions.
TEST_P(MetastoreTest, RedriveRestartsTheTimesOfWhatRunsAgain) {
  int64_t id = m_->EnqueueRun(
      meta::Run{.kind = "workflow", .name = "w", .definition = "old", .snapshot = "abc"});
  ASSERT_TRUE(m_->ClaimRun(id, "me"));
  auto started = [&](const std::string& path) {
    for (const auto& s : m_->Steps(id)) {
      if (s.path == path) return s.started_ms;
    }
    return int64_t{-1};
  };
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); };
  m_->BeginAttempt(id, "load", "job", 1);
  int64_t first = started("load");
  m_->EndAttempt({id, "load", 1, meta::AttemptStatus::kFailed}, meta::StepStatus::kRetrying, "{}");
  pause();
  m_->BeginAttempt(id, "load", "job", 2);
  EXPECT_EQ(started("load"), first);  // its retry rule's attempts are one run of the step
  m_->EndAttempt({id, "load", 2, meta::AttemptStatus::kFailed}, meta::StepStatus::kFailed, "{}");
  m_->BeginAttempt(id, "fan", "parallel", 1);
  m_->EndAttempt({id, "fan", 1, meta::AttemptStatus::kFailed}, meta::StepStatus::kFailed, "{}");
  auto run = *m_->GetRun(id);
  run.status = meta::RunStatus::kFailed;
  m_->FinishRun(run, {}, {});
  pause();
  int64_t retried = NowMs();
  ASSERT_TRUE(m_->RedriveRun(id, meta::RunDefinitions{"new", "def"}));
  EXPECT_EQ(m_->GetRun(id)->definition, "new");
  EXPECT_EQ(m_->GetRun(id)->snapshot, "def");
  EXPECT_GE(started("fan"), retried);  // a container carries on, timed from the retry
  for (const auto& s : m_->Steps(id)) {
    if (s.path == "fan") {
      EXPECT_EQ(s.ended_ms, 0);
    }
  }
  ASSERT_TRUE(m_->ClaimRun(id, "me"));
  m_->BeginAttempt(id, "load", "job", 3);
  EXPECT_GE(started("load"), retried);  // a leaf from its new attempt
  // Without definitions, a redrive keeps those the run has.
  run = *m_->GetRun(id);
  run.status = meta::RunStatus::kFailed;
  m_->FinishRun(run, {}, {});
  ASSERT_TRUE(m_->RedriveRun(id, std::nullopt));
  EXPECT_EQ(m_->GetRun(id)->definition, "new");
  EXPECT_EQ(m_->GetRun(id)->snapshot, "def");
}

TEST_P(MetastoreTest, StepsAttemptsAndLogs) {
  meta::Run wf;
  wf.kind = "workflow";
  wf.name = "w";
  int64_t id = m_->EnqueueRun(wf);
  m_->BeginAttempt(id, "clean", "job", 1);
  m_->SetAttemptChild(id, "clean", 1, 77);
  m_->EndAttempt(
      {id, "clean", 1, meta::AttemptStatus::kFailed, 0, 0, "io", "timeout talking to S3"},
      meta::StepStatus::kRetrying, "{}");
  m_->BeginAttempt(id, "clean", "job", 2);
  m_->EndAttempt({id, "clean", 2, meta::AttemptStatus::kSucceeded}, meta::StepStatus::kSucceeded,
                 R"({"rows_out": 5})");
  auto steps = m_->Steps(id);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].status, meta::StepStatus::kSucceeded);
  EXPECT_EQ(steps[0].attempts, 2);
  EXPECT_EQ(steps[0].output, R"({"rows_out": 5})");
  EXPECT_GT(steps[0].ended_ms, 0);
  auto attempts = m_->Attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].child_run_id, 77);
  EXPECT_EQ(attempts[0].error_kind, "io");
  EXPECT_EQ(attempts[1].status, meta::AttemptStatus::kSucceeded);
  // A move the status table refuses (a succeeded step running again) changes nothing.
  EXPECT_THROW(m_->EndAttempt({id, "clean", 2, meta::AttemptStatus::kFailed},
                              meta::StepStatus::kRunning, "{}"),
               Error);
  EXPECT_EQ(m_->Steps(id)[0].status, meta::StepStatus::kSucceeded);
  EXPECT_EQ(m_->Attempts(id)[1].status, meta::AttemptStatus::kSucceeded);
  int64_t l1 = m_->AppendLog(id, "info", "", "started");
  int64_t l2 = m_->AppendLog(id, "warn", "clean", "retrying");
  EXPECT_GT(l2, l1);
  auto logs = m_->Logs(id, 0, 10);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1].step, "clean");
  EXPECT_EQ(m_->Logs(id, l1, 10).size(), 1u);
  EXPECT_FALSE(m_->ScheduleMark("w", "0 2 * * * UTC"));
  const std::string cron = "0 2 * * * UTC";
  EXPECT_EQ(m_->FireSchedule("w", cron, std::nullopt, 1234, {}), std::vector<int64_t>{});
  EXPECT_EQ(m_->ScheduleMark("w", cron), 1234);
  // Compare-and-set: a reading that is no longer the mark changes nothing and queues nothing.
  meta::Run fire{.kind = "workflow", .name = "w", .trigger = "schedule " + cron};
  size_t runs = m_->ListRuns({}).size();
  EXPECT_FALSE(m_->FireSchedule("w", cron, std::nullopt, 99, {fire}));
  EXPECT_FALSE(m_->FireSchedule("w", cron, 1000, 2000, {fire}));
  EXPECT_EQ(m_->ScheduleMark("w", cron), 1234);
  EXPECT_EQ(m_->ListRuns({}).size(), runs);
  // The mark moves and the fire times' runs are queued together.
  auto ids = m_->FireSchedule("w", cron, 1234, 2000, {fire, fire});
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ(m_->GetRun((*ids)[1])->status, meta::RunStatus::kQueued);
  EXPECT_EQ(m_->GetRun((*ids)[1])->trigger, "schedule " + cron);
  EXPECT_EQ(m_->ScheduleMark("w", cron), 2000);
  EXPECT_EQ(m_->ListRuns({}).size(), runs + 2);
}

TEST_P(MetastoreTest, LandingRegistry) {
  EXPECT_FALSE(m_->FindLanded("orders", "abc"));
  m_->RecordLanded({"orders", "landing/orders/a.csv", "abc", 3, 1});
  auto f = m_->FindLanded("orders", "abc");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->key, "landing/orders/a.csv");
  EXPECT_FALSE(m_->FindLanded("other", "abc"));
  // Another file at the same key (after the crawler moved a damaged one away) replaces it.
  m_->RecordLanded({"orders", "landing/orders/a.csv", "def", 4, 2});
  EXPECT_FALSE(m_->FindLanded("orders", "abc"));
  EXPECT_EQ(m_->FindLanded("orders", "def")->key, "landing/orders/a.csv");
}

TEST_P(MetastoreTest, LandingRemovalsFreeTheNameAndKeepTheirRecord) {
  m_->RecordLanded({"orders", "landing/orders/a.csv", "h1", 10, 100});
  m_->RecordLanded({"orders", "landing/orders/b.csv", "h2", 20, 200});
  m_->RecordLanded({"other", "landing/other/a.csv", "h1", 10, 100});
  auto c = Commit(m_->StartRun("job", "clean", "manual", ""), Change({"staging/orders/x"}));
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/a.csv", "landing/orders/b.csv"};
  m_->CommitRun(c);
  meta::Run arrival;
  arrival.kind = "workflow";
  arrival.name = "load";
  auto files = [](const std::vector<std::string>&) { return std::string("{}"); };
  m_->EnqueueArrivals("load", {"landing/orders/a.csv", "landing/orders/b.csv"}, arrival, files);
  auto landed = m_->ListLanded("orders");
  ASSERT_EQ(landed.size(), 2u);
  EXPECT_EQ(landed[0].key, "landing/orders/a.csv");
  EXPECT_EQ(landed[1].size, 20u);
  EXPECT_EQ(landed[1].landed_ms, 200);

  const std::string moved = "quarantine/landing/orders/removed-300/a.csv";
  m_->RecordRemoval(
      {{"orders", "landing/orders/a.csv", "h1", 10, 100}, 300, "ana", "wrong day", moved});
  // The name and the bytes are free to land again; no job has seen the key any more.
  ASSERT_EQ(m_->ListLanded("orders").size(), 1u);
  EXPECT_FALSE(m_->FindLanded("orders", "h1"));
  EXPECT_TRUE(m_->FindLanded("other", "h1"));
  EXPECT_EQ(m_->Bookmarks("clean"), std::set<std::string>{"landing/orders/b.csv"});
  EXPECT_EQ(m_->ArrivedKeys("load"), std::set<std::string>{"landing/orders/b.csv"});
  auto removals = m_->ListRemovals("orders");
  ASSERT_EQ(removals.size(), 1u);
  EXPECT_EQ(removals[0].file.key, "landing/orders/a.csv");
  EXPECT_EQ(removals[0].file.sha256, "h1");
  EXPECT_EQ(removals[0].file.landed_ms, 100);
  EXPECT_EQ(removals[0].removed_ms, 300);
  EXPECT_EQ(removals[0].removed_by, "ana");
  EXPECT_EQ(removals[0].reason, "wrong day");
  EXPECT_EQ(removals[0].moved_to, moved);
  EXPECT_TRUE(m_->ListRemovals("other").empty());

  // Landed again and removed again: two removals, oldest first.
  m_->RecordLanded({"orders", "landing/orders/a.csv", "h1", 10, 400});
  EXPECT_EQ(m_->FindLanded("orders", "h1")->landed_ms, 400);
  m_->RecordRemoval({{"orders", "landing/orders/a.csv", "h1", 10, 400}, 500, "bo", "again", moved});
  removals = m_->ListRemovals("orders");
  ASSERT_EQ(removals.size(), 2u);
  EXPECT_EQ(removals[0].removed_by, "ana");
  EXPECT_EQ(removals[1].removed_by, "bo");
}

TEST_P(MetastoreTest, AFileLeavesATableAndJoinsItAgain) {
  auto held = Change({});
  held.added.push_back({"landing/o/a.csv", 5, "", -1, FileStatus::kHeld, "check: x (1 row)", ""});
  m_->CommitRun(Commit(m_->StartRun("crawl", "o", "manual", ""), held));
  auto t = m_->GetTable("silver", "orders");
  EXPECT_TRUE(m_->TableFiles(t->id, 0, false).empty());
  auto all = m_->TableFiles(t->id, 0, true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, FileStatus::kHeld);
  EXPECT_EQ(all[0].reason, "check: x (1 row)");
  // Released: the key leaves and joins again in one version; the old version still holds it held.
  auto again = Change({"landing/o/a.csv"});
  again.removed = {"landing/o/a.csv"};
  m_->CommitRun(Commit(m_->StartRun("crawl", "o", "manual", ""), again));
  all = m_->TableFiles(t->id, 0, true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, FileStatus::kActive);
  ASSERT_EQ(m_->TableFiles(t->id, 1, true).size(), 1u);
  EXPECT_EQ(m_->TableFiles(t->id, 1, true)[0].status, FileStatus::kHeld);
  auto versions = m_->TableVersions(t->id);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].files, 0);
  EXPECT_EQ(versions[1].files, 1);
  // Removed (`sluice landing remove`), then the same name lands and joins once more.
  auto out = Change({});
  out.removed = {"landing/o/a.csv"};
  m_->CommitRun(Commit(m_->StartRun("landing", "o", "manual", ""), out));
  EXPECT_TRUE(m_->TableFiles(t->id, 0, true).empty());
  m_->CommitRun(Commit(m_->StartRun("crawl", "o", "manual", ""), Change({"landing/o/a.csv"})));
  EXPECT_EQ(m_->TableFiles(t->id, 0, false).size(), 1u);
}

TEST_P(MetastoreTest, ReopensWithItsData) {
  int64_t r = m_->StartRun("job", "clean", "manual", "");
  m_->CommitRun(Commit(r, Change({"staging/orders/a"})));
  m_.reset();
  m_ = Open(GetParam().uri(dir_));
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
}

TEST_P(MetastoreTest, TokensKeepTheirHashAndLastUse) {
  EXPECT_TRUE(m_->CreateToken("ci", "aa11"));
  EXPECT_FALSE(m_->CreateToken("ci", "bb22"));  // the name is taken; the first hash stays
  EXPECT_TRUE(m_->CreateToken("app", "cc33"));
  auto tokens = m_->Tokens();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].name, "app");
  EXPECT_EQ(tokens[1].hash, "aa11");
  EXPECT_GT(tokens[1].created_ms, 0);
  EXPECT_EQ(tokens[1].last_used_ms, 0);
  m_->TouchToken("ci", 1234);
  EXPECT_EQ(m_->Tokens()[1].last_used_ms, 1234);
  EXPECT_TRUE(m_->RevokeToken("ci"));
  EXPECT_FALSE(m_->RevokeToken("ci"));
  m_->TouchToken("ci", 5678);  // revoked: nothing comes back
  ASSERT_EQ(m_->Tokens().size(), 1u);
  EXPECT_EQ(m_->Tokens()[0].name, "app");
}

TEST_P(MetastoreTest, SnapshotsAreStoredOncePerHash) {
  EXPECT_FALSE(m_->GetSnapshot("abc"));
  std::string manifest("sluice-definitions 1\n4:a\0bc,0:,", 30);
  m_->PutSnapshot("abc", manifest);
  EXPECT_EQ(m_->GetSnapshot("abc"), manifest);  // byte for byte, NUL included
  m_->PutSnapshot("abc", "something else");     // idempotent: the bytes under a hash stay
  EXPECT_EQ(m_->GetSnapshot("abc"), manifest);
  m_->PutSnapshot("def", "other");
  EXPECT_EQ(m_->GetSnapshot("def"), "other");
  EXPECT_FALSE(m_->GetSnapshot("ab"));
  int n = 0;
  // Latin-1 bytes, UTF-8 cut short, an overlong form, a surrogate; and UTF-8 as it should be.
  for (std::string bytes : {"caf\xe9", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80",
                            "caf\xc3\xa9 \xf0\x9f\x93\xa6", "base64:notamanifest"}) {
    std::string m = "sluice-definitions 1\n" + bytes;
    std::string hash = "h" + std::to_string(++n);
    m_->PutSnapshot(hash, m);
    EXPECT_EQ(m_->GetSnapshot(hash), m);
  }
}

ExtractFile Staged(const std::string& source, const std::string& name) {
  ExtractFile f;
  f.source = source;
  f.staging_key = "_extract/o/r/" + name;
  f.landing_key = "landing/" + source + "/extracted_at=2026-12-06/" + name;
  f.sha256 = "ab";
  f.size = 3;
  f.owner = "host:1:1";
  return f;
}

TEST_P(MetastoreTest, ExtractCommitsTheCursorWithItsFiles) {
  EXPECT_FALSE(m_->GetExtractState("api"));
  m_->StageExtractFiles({Staged("api", "a.jsonl"), Staged("api", "b.jsonl")});
  auto files = m_->ExtractFiles("api");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].status, ExtractFileStatus::kStaged);
  EXPECT_EQ(files[0].owner, "host:1:1");
  EXPECT_TRUE(m_->ListLanded("api").empty());  // not landed before the commit

  ExtractCommit c{"api", 0, R"({"cursor":5})", {"_extract/o/r/a.jsonl", "_extract/o/r/b.jsonl"}, 7};
  EXPECT_EQ(m_->CommitExtract(c), 1);
  auto state = m_->GetExtractState("api");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->version, 1);
  EXPECT_EQ(state->state, R"({"cursor":5})");
  EXPECT_EQ(state->updated_ms, 7);
  for (const auto& f : m_->ExtractFiles("")) EXPECT_EQ(f.status, ExtractFileStatus::kCommitted);
  EXPECT_EQ(m_->ListLanded("api").size(), 2u);

  m_->DropExtractFile("_extract/o/r/a.jsonl");
  m_->DropExtractFile("_extract/o/r/a.jsonl");  // idempotent
  EXPECT_EQ(m_->ExtractFiles("api").size(), 1u);
  EXPECT_TRUE(m_->ExtractFiles("other").empty());
}

TEST_P(MetastoreTest, ASecondCommitOnTheSameVersionIsAConflict) {
  m_->StageExtractFiles({Staged("api", "a.jsonl"), Staged("api", "b.jsonl")});
  EXPECT_EQ(m_->CommitExtract({"api", 0, "{}", {"_extract/o/r/a.jsonl"}, 1}), 1);
  try {
    m_->CommitExtract({"api", 0, R"({"x":1})", {"_extract/o/r/b.jsonl"}, 2});
    FAIL() << "a commit on a moved cursor went through";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
    EXPECT_EQ(e.code(), "extract.conflict");
  }
  // Nothing of the loser changed: its file is still staged, the state is the winner's.
  EXPECT_EQ(m_->GetExtractState("api")->state, "{}");
  EXPECT_EQ(m_->ExtractFiles("api")[1].status, ExtractFileStatus::kStaged);
  // A file that was never staged is a bug of the caller, and changes nothing either.
  EXPECT_THROW(m_->CommitExtract({"api", 1, "{}", {"_extract/o/r/nope"}, 3}), Error);
  EXPECT_EQ(m_->GetExtractState("api")->version, 1);
}

TEST_P(MetastoreTest, RunsRecordTheirSnapshot) {
  int64_t started = m_->StartRun("job", "clean", "manual", "abc");
  EXPECT_EQ(m_->GetRun(started)->snapshot, "abc");
  int64_t queued = m_->EnqueueRun(meta::Run{.kind = "workflow", .name = "w", .snapshot = "def"});
  EXPECT_EQ(m_->GetRun(queued)->snapshot, "def");
  EXPECT_EQ(m_->GetRun(m_->StartRun("job", "clean", "manual", ""))->snapshot, "");
  EXPECT_EQ(m_->ListRuns({.kind = "workflow"})[0].snapshot, "def");
}

INSTANTIATE_TEST_SUITE_P(Backends, MetastoreTest, ::testing::ValuesIn(testing::Backends()),
                         testing::BackendName);

TEST(SqliteMetastore, MigratesToTheNewestSchema) {
  fs::path dir = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
  SqliteMetastore m(dir / "m.db");
  EXPECT_EQ(m.schema_version(), static_cast<int>(SqliteDialect().Migrations().size()));
  fs::remove_all(dir);
}

// Runs `sql` on the SQLite file at `path` behind the metastore's back; answers the first column
// of the first row ("" when none).
std::string Sqlite(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// testdata/legacy_v5.db was written with the schema of the releases that kept their version in
// PRAGMA user_version (5), before the schema_version table: it opens, upgraded in place, and
// keeps everything it held.
TEST(SqliteMetastore, UpgradesALegacyMetastoreInPlace) {
  fs::path dir = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
  fs::create_directories(dir);
  fs::copy_file(fs::path(SLUICE_SOURCE_DIR) / "src/meta/testdata/legacy_v5.db", dir / "m.db");
  ASSERT_EQ(Sqlite(dir / "m.db",
                   "SELECT count(*) FROM sqlite_master WHERE name = "
                   "'schema_version'"),
            "0");
  {
    SqliteMetastore m(dir / "m.db");
    EXPECT_EQ(m.schema_version(), static_cast<int>(SqliteDialect().Migrations().size()));
    auto t = m.GetTable("silver", "orders");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->version, 1);
    ASSERT_EQ(m.TableFiles(t->id, 0, false).size(), 1u);
    EXPECT_EQ(m.TableFiles(t->id, 0, false)[0].key, "staging/orders/a");
    EXPECT_EQ(m.Bookmarks("clean"), (std::set<std::string>{"landing/orders/a.csv"}));
    EXPECT_EQ(m.ScheduleMark("daily", "cron0"), 5000);
    ASSERT_EQ(m.Tokens().size(), 1u);
    ASSERT_TRUE(m.GetRun(1));
    EXPECT_EQ(m.GetRun(1)->status, meta::RunStatus::kSucceeded);
    // Runs recorded before snapshots were have none; snapshots can be stored now.
    EXPECT_EQ(m.GetRun(1)->snapshot, "");
    m.PutSnapshot("abc", "manifest");
    EXPECT_EQ(m.GetSnapshot("abc"), "manifest");
    // It keeps working: a new run gets the next id.
    EXPECT_EQ(m.StartRun("job", "clean", "manual", "abc"), 2);
    EXPECT_EQ(m.GetRun(2)->snapshot, "abc");
  }
  // Adopted at 5, then migrated to 6 (snapshots), 7 (table files keyed by version, landing
  // removals) and 8 (extraction state): the table's file above survived the table_files
  // rebuild.
  EXPECT_EQ(Sqlite(dir / "m.db", "SELECT group_concat(version) FROM schema_version"), "5,6,7,8");
  EXPECT_EQ(Sqlite(dir / "m.db", "PRAGMA user_version"), "8");
  fs::remove_all(dir);
}

TEST(SqliteMetastore, RefusesANewerSchemaByName) {
  fs::path dir = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
  { SqliteMetastore m(dir / "m.db"); }
  Sqlite(dir / "m.db", "INSERT INTO schema_version VALUES (99, 'sqlite', 0)");
  try {
    SqliteMetastore m(dir / "m.db");
    ADD_FAILURE() << "a newer schema opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "meta.schema_too_new");
    EXPECT_NE(std::string(e.what()).find("schema version 99, newer than this sluice (" +
                                         std::to_string(SqliteDialect().Migrations().size()) + ")"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(MetaOpen, ChoosesTheBackendByScheme) {
  fs::path dir = fs::temp_directory_path() / ("sluice-meta-" + UniqueSuffix());
  Open("sqlite:" + (dir / "a.db").string())->StartRun("job", "a", "manual", "");
  Open((dir / "b.db").string())->StartRun("job", "b", "manual", "");
  EXPECT_TRUE(fs::exists(dir / "a.db"));
  EXPECT_TRUE(fs::exists(dir / "b.db"));
  try {
    Open("mysql://db/sluice");
    ADD_FAILURE() << "an unknown backend opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "meta.unsupported_backend");
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("'mysql'"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::meta
