// Workflow execution against a real SQLite metastore, a fake clock and a scripted step runner:
// retry/backoff/timeout schedules, catch and choice routing, cancel, resume after a crash.
#include "orchestrator/executor.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/time.h"
#include "lake/local_store.h"
#include "meta/sql_metastore.h"
#include "orchestrator/retry.h"

namespace sluice::orchestrator {
namespace {

using nlohmann::json;

// Leaf steps follow a script: `job: NAME` fails with the scripted kinds in order, then succeeds
// with the scripted figures; a step may also take (fake) time.
class ScriptedRunner : public StepRunner {
 public:
  json Run(transform::Workspace&, const project::WorkflowStep& step, StepContext& ctx) override {
    std::lock_guard lock(mu);
    ++calls[step.target];
    if (auto it = hook.find(step.target); it != hook.end()) it->second(ctx);
    if (auto it = takes_ms.find(step.target); it != takes_ms.end()) clock->Advance(it->second);
    auto& f = failures[step.target];
    if (!f.empty()) {
      ErrorKind kind = f.front();
      f.erase(f.begin());
      throw Error(kind, "scripted failure of " + step.target);
    }
    return figures.count(step.target) ? figures[step.target] : json::object();
  }
  std::mutex mu;
  FakeClock* clock = nullptr;
  std::map<std::string, int> calls;
  std::map<std::string, std::vector<ErrorKind>> failures;
  std::map<std::string, json> figures;
  std::map<std::string, int64_t> takes_ms;
  std::map<std::string, std::function<void(StepContext&)>> hook;
};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sluice-exec-" + UniqueSuffix());
    ws_ = std::make_shared<transform::Workspace>();
    ws_->project.name = "t";
    ws_->store = std::make_shared<lake::LocalStore>(root_ / "lake");
    ws_->metastore = std::make_shared<meta::SqliteMetastore>(root_ / "meta.db");
    runner_.clock = &clock_;
    options_.clock = &clock_;
    options_.runner = &runner_;
    options_.seed = 42;
  }
  void TearDown() override { fs::remove_all(root_); }

  project::Workflow Parse(const std::string& text) {
    project::Diagnostics d;
    auto wf = project::ParseWorkflow(text, "workflows/t.yaml", d);
    EXPECT_TRUE(d.empty()) << (d.empty() ? "" : d.items()[0].str());
    ws_->workflows[wf->name] = *wf;
    return *wf;
  }

  // Queues, claims and executes a run of `text`; returns its id.
  int64_t RunText(const std::string& text, const json& params = json::object()) {
    auto wf = Parse(text);
    int64_t id = Enqueue(m(), wf, "test", params);
    EXPECT_TRUE(m().ClaimRun(id, "test"));
    Execute(ws_, id, options_);
    return id;
  }

  meta::Metastore& m() { return *ws_->metastore; }
  meta::RunStatus Status(int64_t id) { return m().GetRun(id)->status; }
  std::map<std::string, meta::StepState> Steps(int64_t id) {
    std::map<std::string, meta::StepState> out;
    for (auto& s : m().Steps(id)) out[s.path] = s;
    return out;
  }

  fs::path root_;
  std::shared_ptr<transform::Workspace> ws_;
  FakeClock clock_;
  ScriptedRunner runner_;
  ExecutorOptions options_;
};

// A recorded step whose status word this release does not know (a newer release wrote it, or a
// hand edit): the run ends failed naming the word, instead of staying running for good.
TEST_F(ExecutorTest, AnUnknownRecordedStatusEndsTheRunFailed) {
  auto wf = Parse("workflow: w\nsteps:\n  - job: load\n");
  int64_t id = Enqueue(m(), wf, "test", json::object());
  ASSERT_TRUE(m().ClaimRun(id, "test"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((root_ / "meta.db").c_str(), &db), SQLITE_OK);
  std::string sql = fmt::format(
      "INSERT INTO steps (run_id, path, kind, status, attempts, started_ms) VALUES ({}, 'load', "
      "'job', 'paused', 1, 0)",
      id);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kFailed);
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_NE(m().GetRun(id)->error.find("unknown step status 'paused'"), std::string::npos)
      << m().GetRun(id)->error;
}

TEST_F(ExecutorTest, RetriesWithExponentialBackoffCappedAtMaxDelay) {
  runner_.failures["load"] = {ErrorKind::kIo, ErrorKind::kIo, ErrorKind::kIo};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n"
      "    retry: { attempts: 4, interval: 2s, backoff_rate: 2.0, max_delay: 5s }\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  EXPECT_EQ(clock_.sleeps(), (std::vector<int64_t>{2000, 4000, 5000}));
  auto attempts = m().Attempts(id);
  ASSERT_EQ(attempts.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i].status, meta::AttemptStatus::kFailed);
    EXPECT_EQ(attempts[i].error_kind, "io");
  }
  EXPECT_EQ(attempts[3].status, meta::AttemptStatus::kSucceeded);
  EXPECT_EQ(Steps(id)["load"].attempts, 4);
}

TEST_F(ExecutorTest, GivesUpAfterTheLastAttempt) {
  runner_.failures["load"] = {ErrorKind::kIo, ErrorKind::kIo, ErrorKind::kIo};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n    retry: { attempts: 2, interval: 1s }\n"
      "  - job: after\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(runner_.calls["load"], 2);
  EXPECT_EQ(runner_.calls["after"], 0);
  EXPECT_EQ(clock_.sleeps(), std::vector<int64_t>{1000});
  auto run = m().GetRun(id);
  EXPECT_NE(run->error.find("scripted failure of load"), std::string::npos);
  EXPECT_EQ(json::parse(run->details)["error_kind"], "io");
}

TEST_F(ExecutorTest, RetriesOnlyTheKindsItIsToldTo) {
  runner_.failures["load"] = {ErrorKind::kQuality};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n    retry: { attempts: 5, interval: 1s, on: [io] }\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(runner_.calls["load"], 1);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(ExecutorTest, ConfigErrorsAreNotRetriedByDefault) {
  runner_.failures["load"] = {ErrorKind::kConfig};
  int64_t id = RunText("workflow: w\nsteps:\n  - job: load\n    retry: 3\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(runner_.calls["load"], 1);
}

TEST(RetryDelay, FullJitterStaysWithinTheComputedDelay) {
  project::Retry r;
  r.interval_ms = 1000;
  r.backoff_rate = 3;
  r.full_jitter = true;
  std::mt19937_64 rng(7);
  bool below = false;
  for (int i = 0; i < 200; ++i) {
    int64_t d = RetryDelayMs(r, 3, rng);
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 9000);
    below = below || d < 9000;
  }
  EXPECT_TRUE(below);
  r.full_jitter = false;
  EXPECT_EQ(RetryDelayMs(r, 1, rng), 1000);
  EXPECT_EQ(RetryDelayMs(r, 3, rng), 9000);
}

TEST_F(ExecutorTest, AWaitLongerThanItsTimeoutTimesOut) {
  int64_t id = RunText("workflow: w\nsteps:\n  - wait: 10m\n    timeout: 1500ms\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(clock_.sleeps(), std::vector<int64_t>{1500});
  EXPECT_EQ(Steps(id)["wait"].error_kind, "timeout");
}

TEST_F(ExecutorTest, AStepOverItsTimeoutIsRetriedWhenTimeoutsAreRetried) {
  runner_.takes_ms["slow"] = 5000;
  runner_.hook["slow"] = [this](StepContext&) {
    if (runner_.calls["slow"] == 2) runner_.takes_ms["slow"] = 100;
  };
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: slow\n    timeout: 2s\n"
      "    retry: { attempts: 2, interval: 3s, on: [timeout] }\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  auto attempts = m().Attempts(id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].error_kind, "timeout");
  EXPECT_EQ(clock_.sleeps(), std::vector<int64_t>{3000});
}

TEST_F(ExecutorTest, CatchRoutesByErrorKindAndTheRunGoesOn) {
  runner_.failures["load"] = {ErrorKind::kInput};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n    catch:\n"
      "      - { errors: [quality], steps: [ { job: on_quality } ] }\n"
      "      - { errors: [input, io], steps: [ { job: on_input } ] }\n"
      "  - job: next\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["on_quality"], 0);
  EXPECT_EQ(runner_.calls["on_input"], 1);
  EXPECT_EQ(runner_.calls["next"], 1);
  auto steps = Steps(id);
  EXPECT_EQ(steps["load"].status, meta::StepStatus::kCaught);
  EXPECT_EQ(steps["load/catch/on_input"].status, meta::StepStatus::kSucceeded);
}

TEST_F(ExecutorTest, AnUncaughtKindFailsTheRunAndRunsOnFailure) {
  runner_.failures["load"] = {ErrorKind::kIo};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n    catch: [ { errors: [quality], steps: [ "
      "{ job: on_quality } ] } ]\non_failure:\n  - job: alert\non_success:\n  - job: cheer\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(runner_.calls["alert"], 1);
  EXPECT_EQ(runner_.calls["cheer"], 0);
  EXPECT_EQ(Steps(id)["on_failure/alert"].status, meta::StepStatus::kSucceeded);
}

TEST_F(ExecutorTest, ChoiceFollowsStepFiguresAndParameters) {
  runner_.figures["clean"] = {{"rows_quarantined", 5}, {"rows_out", 100}};
  const std::string text =
      "workflow: w\nparameters: { region: us }\nsteps:\n  - job: clean\n  - choice:\n"
      "      - when: \"steps.clean.rows_quarantined > 3 and params.region == 'eu'\"\n"
      "        steps: [ { job: eu_review } ]\n"
      "      - when: \"steps.clean.rows_quarantined > 3\"\n"
      "        steps: [ { job: review } ]\n"
      "    otherwise: [ { job: fine } ]\n";
  int64_t id = RunText(text);
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["review"], 1);
  EXPECT_EQ(runner_.calls["eu_review"], 0);
  EXPECT_EQ(json::parse(Steps(id)["choice"].output)["chosen"], 1);
  RunText(text, {{"region", "eu"}});
  EXPECT_EQ(runner_.calls["eu_review"], 1);
  runner_.figures["clean"] = {{"rows_quarantined", 0}};
  RunText(text);
  EXPECT_EQ(runner_.calls["fine"], 1);
}

TEST_F(ExecutorTest, UnknownParametersAreRefusedWithAHint) {
  auto wf = Parse("workflow: w\nparameters: { region: us }\nsteps: [ { pass: p } ]\n");
  try {
    Enqueue(m(), wf, "test", {{"regoin", "eu"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'region'?"), std::string::npos);
  }
}

TEST_F(ExecutorTest, ParallelAndMapRunEveryBranch) {
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: b}, {job: c} ] ]\n"
      "  - map: { over: files, max_concurrency: 2, steps: [ { job: per_file } ] }\n",
      {{"files", json::array({"landing/s/1.csv", "landing/s/2.csv", "landing/s/3.csv"})}});
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["a"], 1);
  EXPECT_EQ(runner_.calls["c"], 1);
  EXPECT_EQ(runner_.calls["per_file"], 3);
  auto steps = Steps(id);
  EXPECT_EQ(steps["parallel/1/c"].status, meta::StepStatus::kSucceeded);
  EXPECT_EQ(steps["map/2/per_file"].status, meta::StepStatus::kSucceeded);
}

TEST_F(ExecutorTest, AFailingBranchFailsTheParallelStep) {
  runner_.failures["b"] = {ErrorKind::kInput};
  int64_t id = RunText("workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: b} ] ]\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(Steps(id)["parallel"].status, meta::StepStatus::kFailed);
  EXPECT_EQ(json::parse(m().GetRun(id)->details)["failed_step"], "parallel/1/b");
}

TEST_F(ExecutorTest, CancelStopsAtTheNextStep) {
  auto wf = Parse("workflow: w\nsteps:\n  - job: first\n  - job: second\n");
  int64_t id = Enqueue(m(), wf, "test", json::object());
  ASSERT_TRUE(m().ClaimRun(id, "test"));
  runner_.hook["first"] = [&](StepContext& ctx) { m().RequestCancel(ctx.run_id); };
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kCancelled);
  EXPECT_EQ(runner_.calls["second"], 0);
  EXPECT_EQ(Status(id), meta::RunStatus::kCancelled);
}

TEST_F(ExecutorTest, AQueuedRunIsCancelledAtOnce) {
  auto wf = Parse("workflow: w\nsteps:\n  - job: first\n");
  int64_t id = Enqueue(m(), wf, "test", json::object());
  EXPECT_EQ(m().RequestCancel(id)->status, meta::RunStatus::kCancelled);
  EXPECT_FALSE(m().ClaimRun(id, "test"));
}

TEST_F(ExecutorTest, AResumedRunSkipsCommittedStepsAndRetriesTheInterruptedOne) {
  auto wf = Parse("workflow: w\nsteps:\n  - job: one\n  - job: two\n  - job: three\n");
  int64_t id = Enqueue(m(), wf, "test", json::object());
  ASSERT_TRUE(m().ClaimRun(id, "dead-process"));
  // What a process killed during step two leaves behind.
  m().BeginAttempt(id, "one", "job", 1);
  m().EndAttempt({id, "one", 1, meta::AttemptStatus::kSucceeded}, meta::StepStatus::kSucceeded,
                 R"({"rows_out": 7})");
  m().BeginAttempt(id, "two", "job", 1);
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["one"], 0);
  EXPECT_EQ(runner_.calls["two"], 1);
  EXPECT_EQ(runner_.calls["three"], 1);
  auto attempts = m().Attempts(id);
  std::vector<meta::AttemptStatus> two;
  for (const auto& a : attempts) {
    if (a.path == "two") two.push_back(a.status);
  }
  EXPECT_EQ(two, (std::vector<meta::AttemptStatus>{meta::AttemptStatus::kInterrupted,
                                                   meta::AttemptStatus::kSucceeded}));
}

TEST_F(ExecutorTest, RedriveRunsOnlyTheFailedSteps) {
  runner_.failures["two"] = {ErrorKind::kIo};
  int64_t id = RunText("workflow: w\nsteps:\n  - job: one\n  - job: two\n");
  ASSERT_EQ(Status(id), meta::RunStatus::kFailed);
  ASSERT_TRUE(m().RedriveRun(id, std::nullopt));
  ASSERT_TRUE(m().ClaimRun(id, "test"));
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["one"], 1);
  EXPECT_EQ(runner_.calls["two"], 2);
}

TEST_F(ExecutorTest, RetryOnTheLatestDefinitionsRunsTheCurrentWorkflowFromItsFailedStep) {
  runner_.failures["two"] = {ErrorKind::kIo};
  int64_t id = RunText("workflow: w\nsteps:\n  - job: one\n  - job: two\n");
  ASSERT_EQ(Status(id), meta::RunStatus::kFailed);
  auto now = Parse("workflow: w\nsteps:\n  - job: one\n  - job: two\n  - job: three\n");
  auto plan = PlanRetry(*ws_, *m().GetRun(id), RetryDefinitions::kLatest);
  Redrive(m(), plan);
  EXPECT_EQ(m().GetRun(id)->definition, now.text);  // recorded for its later retries
  ASSERT_TRUE(m().ClaimRun(id, "test"));
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls, (std::map<std::string, int>{{"one", 1}, {"two", 2}, {"three", 1}}));
  auto logs = m().Logs(id, 0, 100);
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](const meta::LogLine& l) {
    return l.message.find("from its failed steps with the project's current definitions") !=
           std::string::npos;
  }));
}

// The failed steps are found in the current workflow by their durable paths, however deep.
TEST_F(ExecutorTest, RetryOnTheLatestDefinitionsRefusesWhenAFailedStepIsGone) {
  runner_.failures["b"] = {ErrorKind::kIo, ErrorKind::kIo};
  runner_.failures["d"] = {ErrorKind::kIo};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: b} ] ]\n"
      "    retry: 2\n    catch: [ { errors: [any], steps: [ {job: d} ] } ]\n");
  ASSERT_EQ(Status(id), meta::RunStatus::kFailed);
  auto steps = Steps(id);
  ASSERT_TRUE(steps.count("parallel@2/1/b") && steps.count("parallel/catch/d"));
  auto refused = [&](const std::string& text) -> std::string {
    Parse(text);
    try {
      PlanRetry(*ws_, *m().GetRun(id), RetryDefinitions::kLatest);
    } catch (const Error& e) {
      return e.code();
    }
    return "";
  };
  EXPECT_EQ(refused("workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: b}, {job: c} ] ]\n"
                    "    catch: [ { errors: [io], steps: [ {job: e} ] }, "
                    "{ errors: [any], steps: [ {job: d} ] } ]\n"),
            "");
  EXPECT_EQ(refused("workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: c} ] ]\n"
                    "    catch: [ { errors: [any], steps: [ {job: d} ] } ]\n"),
            "usage.retry_latest_step_gone");
  EXPECT_EQ(refused("workflow: w\nsteps:\n  - parallel: [ [ {job: a} ], [ {job: b} ] ]\n"),
            "usage.retry_latest_step_gone");  // its catch handler's step is gone
  ws_->workflows.clear();
  EXPECT_EQ(refused("workflow: other\nsteps: [ {job: a} ]\n"), "usage.retry_latest_workflow_gone");
}

TEST_F(ExecutorTest, AFailStepFailsWithItsKindAndMessage) {
  int64_t id = RunText(
      "workflow: w\nparameters: { day: x }\nsteps:\n"
      "  - fail: \"no data for ${params.day}\"\n    error: input\n");
  auto run = m().GetRun(id);
  EXPECT_EQ(run->status, meta::RunStatus::kFailed);
  EXPECT_NE(run->error.find("no data for x"), std::string::npos);
  EXPECT_EQ(json::parse(run->details)["error_kind"], "input");
}

TEST_F(ExecutorTest, EveryTransitionIsLogged) {
  runner_.failures["load"] = {ErrorKind::kIo};
  int64_t id = RunText("workflow: w\nsteps:\n  - job: load\n    retry: 2\n");
  std::string all;
  for (const auto& l : m().Logs(id, 0, 100)) all += l.message + "\n";
  EXPECT_NE(all.find("job load started"), std::string::npos);
  EXPECT_NE(all.find("retrying in 1000 ms (attempt 2 of 2)"), std::string::npos);
  EXPECT_NE(all.find("job load succeeded"), std::string::npos);
  EXPECT_NE(all.find("succeeded in"), std::string::npos);
}

TEST_F(ExecutorTest, MapOverPartitionsRunsOncePerPartition) {
  int64_t id =
      RunText("workflow: w\nsteps:\n  - map: { over: partitions, steps: [ { job: per_day } ] }\n",
              {{"files", json::array({"landing/s/date=1/a.csv", "landing/s/date=1/b.csv",
                                      "landing/s/date=2/c.csv"})}});
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["per_day"], 2);
  EXPECT_EQ(json::parse(Steps(id)["map"].output)["items"], 2);
}

TEST_F(ExecutorTest, AChildWorkflowRunsAsItsOwnRunAndItsFailureFailsTheStep) {
  Parse("workflow: child\nparameters: { day: x }\nsteps:\n  - job: child_job\n");
  int64_t id = RunText(
      "workflow: parent\nparameters: { day: today }\nsteps:\n"
      "  - workflow: child\n    params: { day: \"${params.day}\" }\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
  int64_t child = json::parse(Steps(id)["child"].output)["child_run_id"];
  auto run = m().GetRun(child);
  EXPECT_EQ(run->status, meta::RunStatus::kSucceeded);
  EXPECT_EQ(run->parent_run_id, id);
  EXPECT_EQ(json::parse(run->params)["day"], "today");
  EXPECT_EQ(runner_.calls["child_job"], 1);
  runner_.failures["child_job"] = {ErrorKind::kIo};
  int64_t failed = RunText("workflow: parent\nsteps:\n  - workflow: child\n");
  EXPECT_EQ(Status(failed), meta::RunStatus::kFailed);
  EXPECT_NE(m().GetRun(failed)->error.find("child workflow child"), std::string::npos);
}

// validate refuses a workflow that runs itself; should one run anyway (a definition changed
// under a queued run), nesting stops at kMaxChildDepth with a clear error and leaves no run
// `running`, instead of one stack frame per level until the process dies.
TEST_F(ExecutorTest, AWorkflowThatRunsItselfStopsAtTheNestingLimit) {
  int64_t id = RunText("workflow: loop\nsteps:\n  - workflow: loop\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  auto runs = m().ListRuns({.name = "loop"});
  EXPECT_EQ(runs.size(), static_cast<size_t>(kMaxChildDepth));
  for (const auto& run : runs) EXPECT_EQ(run.status, meta::RunStatus::kFailed) << run.id;
  std::string deepest = m().GetRun(runs.front().id)->error;
  EXPECT_NE(deepest.find(fmt::format("child workflow loop would nest {} runs deep, over the limit "
                                     "of {}: does the workflow run itself?",
                                     kMaxChildDepth + 1, kMaxChildDepth)),
            std::string::npos)
      << deepest;
}

TEST_F(ExecutorTest, CancellingAParentCancelsItsRunningChild) {
  options_.clock = &SystemClock();
  Parse("workflow: child\nsteps:\n  - job: blocker\n  - job: never\n");
  runner_.hook["blocker"] = [this](StepContext& ctx) {
    m().RequestCancel(m().GetRun(ctx.run_id)->parent_run_id);
    int64_t until = MonotonicMs() + 5000;
    while (!ctx.stop->load() && MonotonicMs() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    throw Error(ErrorKind::kInterrupted, "interrupted");
  };
  int64_t id = RunText("workflow: parent\nsteps:\n  - workflow: child\n  - job: after\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kCancelled);
  EXPECT_EQ(runner_.calls["never"], 0);
  EXPECT_EQ(runner_.calls["after"], 0);
  auto children = m().ListRuns({.name = "child"});
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].status, meta::RunStatus::kCancelled);
}

TEST_F(ExecutorTest, ACatchHandlerInterruptedByACrashIsFinishedOnResume) {
  auto wf = Parse(
      "workflow: w\nsteps:\n  - job: load\n    catch: [ { errors: [io], steps: [ "
      "{ job: first_aid }, { job: alert } ] } ]\n  - job: after\n");
  int64_t id = Enqueue(m(), wf, "test", json::object());
  ASSERT_TRUE(m().ClaimRun(id, "dead-process"));
  // What a process killed inside the handler leaves: load failed, handler step 1 done.
  m().BeginAttempt(id, "load", "job", 1);
  m().EndAttempt({id, "load", 1, meta::AttemptStatus::kFailed, 0, 0, "io", "disk"},
                 meta::StepStatus::kCatching, R"({"catch_rule": 0})");
  m().BeginAttempt(id, "load/catch/first_aid", "job", 1);
  m().EndAttempt({id, "load/catch/first_aid", 1, meta::AttemptStatus::kSucceeded},
                 meta::StepStatus::kSucceeded, "{}");
  m().BeginAttempt(id, "load/catch/alert", "job", 1);
  EXPECT_EQ(Execute(ws_, id, options_), meta::RunStatus::kSucceeded);
  EXPECT_EQ(runner_.calls["load"], 0);
  EXPECT_EQ(runner_.calls["first_aid"], 0);
  EXPECT_EQ(runner_.calls["alert"], 1);
  EXPECT_EQ(runner_.calls["after"], 1);
  EXPECT_EQ(Steps(id)["load"].status, meta::StepStatus::kCaught);
}

TEST_F(ExecutorTest, AFailingCatchHandlerFailsTheStepAndRetryRunsItAgain) {
  runner_.failures["load"] = {ErrorKind::kIo, ErrorKind::kIo};
  runner_.failures["handler"] = {ErrorKind::kInput};
  int64_t id = RunText(
      "workflow: w\nsteps:\n  - job: load\n    catch: [ { errors: [io], steps: [ "
      "{ job: handler } ] } ]\n  - job: after\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(Steps(id)["load"].status, meta::StepStatus::kFailed);
  ASSERT_TRUE(m().RedriveRun(id, std::nullopt));
  ASSERT_TRUE(m().ClaimRun(id, "test"));
  EXPECT_EQ(Execute(ws_, id, options_),
            meta::RunStatus::kSucceeded);  // load fails again; the handler works now
  EXPECT_EQ(runner_.calls["handler"], 2);
  EXPECT_EQ(runner_.calls["after"], 1);
  EXPECT_EQ(Steps(id)["load"].status, meta::StepStatus::kCaught);
}

TEST_F(ExecutorTest, OnFailureRunsAfterAWorkflowTimeout) {
  Watchdog watchdog;
  options_.clock = &SystemClock();
  options_.watchdog = &watchdog;
  int64_t id =
      RunText("workflow: w\ntimeout: 100ms\nsteps:\n  - wait: 30s\non_failure:\n  - job: alert\n");
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(runner_.calls["alert"], 1);
  EXPECT_EQ(Steps(id)["wait"].status, meta::StepStatus::kFailed);
}

TEST_F(ExecutorTest, AMapOverBadFilesFailsTheRunInsteadOfTheProcess) {
  int64_t id = RunText("workflow: w\nsteps:\n  - map: { over: files, steps: [ { pass: p } ] }\n",
                       {{"files", json::array({1, 2})}});
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_NE(m().GetRun(id)->error.find("params.files must be a list"), std::string::npos);
  id = RunText("workflow: w\nsteps:\n  - map: { over: files, steps: [ { pass: p } ] }\n",
               {{"files", "landing/s/a.csv"}});
  EXPECT_EQ(Status(id), meta::RunStatus::kSucceeded);
}

TEST_F(ExecutorTest, AWorkflowTimeoutStopsTheRunningStep) {
  Watchdog watchdog;
  options_.clock = &SystemClock();
  options_.watchdog = &watchdog;
  int64_t t0 = MonotonicMs();
  int64_t id = RunText("workflow: w\ntimeout: 200ms\nsteps:\n  - wait: 30s\n  - job: never\n");
  EXPECT_LT(MonotonicMs() - t0, 5000);
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(json::parse(m().GetRun(id)->details)["error_kind"], "timeout");
  EXPECT_EQ(runner_.calls["never"], 0);
}

TEST_F(ExecutorTest, AStepTimeoutStopsARunningStepOnTheWallClock) {
  Watchdog watchdog;
  options_.clock = &SystemClock();
  options_.watchdog = &watchdog;
  // A step that runs until it is told to stop, as DuckDB statements do (Interrupted()).
  runner_.hook["stuck"] = [](StepContext& ctx) {
    while (!ctx.stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    throw Error(ErrorKind::kInterrupted, "interrupted");
  };
  int64_t t0 = MonotonicMs();
  int64_t id = RunText("workflow: w\nsteps:\n  - job: stuck\n    timeout: 150ms\n");
  EXPECT_LT(MonotonicMs() - t0, 5000);
  EXPECT_EQ(Status(id), meta::RunStatus::kFailed);
  EXPECT_EQ(Steps(id)["stuck"].error_kind, "timeout");
}

}  // namespace
}  // namespace sluice::orchestrator
