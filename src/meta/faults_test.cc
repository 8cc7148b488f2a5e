// The stores under faults and races: a fault-injecting wrapper (fail the Nth call; fail after the
// commit, before the reply) shows what callers see and that retrying is safe; two processes
// racing on one SQLite file show each exactly-once promise (one wins, the other is told).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/time.h"
#include "meta/sql_metastore.h"
#include "meta/testing/backends.h"

namespace sluice::meta {
namespace {

// Forwards every call to `inner`, failing where told: call number `fail_call` (1-based, counting
// every call) throws Error(kIo) before it reaches the store; with `fail_after` the call takes
// effect and then throws, as a connection lost after COMMIT, before the reply, would.
class FaultyMetastore : public Metastore {
 public:
  explicit FaultyMetastore(std::unique_ptr<Metastore> inner) : inner_(std::move(inner)) {}
  int fail_call = 0;
  bool fail_after = false;

  // Runs `call` as call number ++calls_, failing it as told.
  template <typename F>
  auto Call(const char* name, F&& call) -> decltype(call()) {
    bool fail = ++calls_ == fail_call;
    if (fail && !fail_after) Fail(ErrorKind::kIo, "injected: {} failed", name);
    auto lost = [&] {
      if (fail) Fail(ErrorKind::kIo, "injected: {} committed, then the reply was lost", name);
    };
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      lost();
    } else {
      auto out = call();
      lost();
      return out;
    }
  }
#define SLUICE_FORWARD(ret, name, params, args)            \
  ret name params override {                               \
    return Call(#name, [&] { return inner_->name args; }); \
  }
  using Params = std::function<std::string(const std::vector<std::string>&)>;
  using Tags = std::map<std::string, std::string>;
  SLUICE_FORWARD(std::vector<Table>, ListTables, (), ())
  SLUICE_FORWARD(std::optional<Table>, GetTable, (const std::string& d, const std::string& n),
                 (d, n))
  SLUICE_FORWARD(std::vector<TableFile>, TableFiles, (int64_t t, int64_t v, bool q), (t, v, q))
  SLUICE_FORWARD(std::vector<TableVersion>, TableVersions, (int64_t t), (t))
  SLUICE_FORWARD(std::vector<Column>, TableColumns, (int64_t t, int64_t v), (t, v))
  SLUICE_FORWARD(void, SetColumnTags, (int64_t t, const Tags& g), (t, g))
  SLUICE_FORWARD(Tags, ColumnTags, (int64_t t), (t))
  SLUICE_FORWARD(PrunedVersions, PruneVersions,
                 (int64_t t, int64_t k, const std::optional<std::string>& p, bool a), (t, k, p, a))
  SLUICE_FORWARD(std::set<std::string>, FileKeysUnder, (const std::string& p), (p))
  SLUICE_FORWARD(int64_t, StartRun,
                 (const std::string& k, const std::string& n, const std::string& t,
                  const std::string& s),
                 (k, n, t, s))
  SLUICE_FORWARD(void, FinishRun,
                 (const Run& r, const std::vector<RunStep>& s, const std::vector<CheckResult>& c),
                 (r, s, c))
  SLUICE_FORWARD(std::vector<Run>, ListRuns, (const RunFilter& f), (f))
  SLUICE_FORWARD(std::optional<Run>, GetRun, (int64_t id), (id))
  SLUICE_FORWARD(std::vector<RunStep>, RunSteps, (int64_t id), (id))
  SLUICE_FORWARD(std::vector<CheckResult>, CheckResults, (int64_t id), (id))
  SLUICE_FORWARD(int64_t, AppendLog,
                 (int64_t id, const std::string& l, const std::string& s, const std::string& m),
                 (id, l, s, m))
  SLUICE_FORWARD(std::vector<LogLine>, Logs, (int64_t id, int64_t a, size_t n), (id, a, n))
  SLUICE_FORWARD(int64_t, EnqueueRun, (const Run& r), (r))
  SLUICE_FORWARD(bool, ClaimRun, (int64_t id, const std::string& o), (id, o))
  SLUICE_FORWARD(void, RequeueRun, (int64_t id), (id))
  SLUICE_FORWARD(std::optional<Run>, RequestCancel, (int64_t id), (id))
  SLUICE_FORWARD(bool, RedriveRun, (int64_t id, const std::optional<RunDefinitions>& d), (id, d))
  SLUICE_FORWARD(std::vector<StepState>, Steps, (int64_t id), (id))
  SLUICE_FORWARD(std::vector<Attempt>, Attempts, (int64_t id), (id))
  SLUICE_FORWARD(void, BeginAttempt,
                 (int64_t id, const std::string& p, const std::string& k, int a), (id, p, k, a))
  SLUICE_FORWARD(void, SetAttemptChild, (int64_t id, const std::string& p, int a, int64_t c),
                 (id, p, a, c))
  SLUICE_FORWARD(void, EndAttempt, (const Attempt& a, StepStatus s, const std::string& o),
                 (a, s, o))
  SLUICE_FORWARD(int64_t, EnqueueArrivals,
                 (const std::string& w, const std::vector<std::string>& k, Run r, const Params& p),
                 (w, k, r, p))
  SLUICE_FORWARD(std::set<std::string>, ArrivedKeys, (const std::string& w), (w))
  SLUICE_FORWARD(std::optional<int64_t>, ScheduleMark, (const std::string& w, const std::string& t),
                 (w, t))
  SLUICE_FORWARD(std::optional<std::vector<int64_t>>, FireSchedule,
                 (const std::string& w, const std::string& t, std::optional<int64_t> p, int64_t f,
                  const std::vector<Run>& r),
                 (w, t, p, f, r))
  SLUICE_FORWARD(void, CommitRun, (const RunCommit& c), (c))
  SLUICE_FORWARD(std::vector<TableFile>, DropTable, (const TableDrop& d), (d))
  SLUICE_FORWARD(std::set<std::string>, Bookmarks, (const std::string& j), (j))
  SLUICE_FORWARD(bool, CreateToken, (const std::string& n, const std::string& h), (n, h))
  SLUICE_FORWARD(std::vector<ApiToken>, Tokens, (), ())
  SLUICE_FORWARD(bool, RevokeToken, (const std::string& n), (n))
  SLUICE_FORWARD(void, TouchToken, (const std::string& n, int64_t t), (n, t))
  SLUICE_FORWARD(std::optional<LandedFile>, FindLanded,
                 (const std::string& s, const std::string& h), (s, h))
  SLUICE_FORWARD(void, RecordLanded, (const LandedFile& f), (f))
  SLUICE_FORWARD(std::vector<LandedFile>, ListLanded, (const std::string& s), (s))
  SLUICE_FORWARD(void, RecordRemoval, (const LandingRemoval& r), (r))
  SLUICE_FORWARD(std::vector<LandingRemoval>, ListRemovals, (const std::string& s), (s))
  SLUICE_FORWARD(std::optional<ExtractCursor>, GetExtractState, (const std::string& s), (s))
  SLUICE_FORWARD(void, StageExtractFiles, (const std::vector<ExtractFile>& f), (f))
  SLUICE_FORWARD(int64_t, CommitExtract, (const ExtractCommit& c), (c))
  SLUICE_FORWARD(std::vector<ExtractFile>, ExtractFiles, (const std::string& s), (s))
  SLUICE_FORWARD(void, DropExtractFile, (const std::string& k), (k))
  SLUICE_FORWARD(std::vector<double>, RuleHistory,
                 (const std::string& t, const std::string& r, size_t n, const std::string& k),
                 (t, r, n, k))
  SLUICE_FORWARD(std::vector<CheckHistoryEntry>, CheckHistory, (const std::string& t, size_t n),
                 (t, n))
  SLUICE_FORWARD(void, PutSnapshot, (const std::string& h, const std::string& m), (h, m))
  SLUICE_FORWARD(std::optional<std::string>, GetSnapshot, (const std::string& h), (h))
#undef SLUICE_FORWARD

 private:
  std::unique_ptr<Metastore> inner_;
  int calls_ = 0;
};

class Faults : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    SLUICE_REQUIRE_BACKEND(GetParam());
    dir_ = fs::temp_directory_path() / ("sluice-faults-" + UniqueSuffix());
    fs::create_directories(dir_);
    m_ = std::make_unique<FaultyMetastore>(Open(GetParam().uri(dir_)));
  }
  void TearDown() override {
    m_.reset();
    fs::remove_all(dir_);
  }
  static std::string Keys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += k + ";";
    return out;
  }
  fs::path dir_;
  std::unique_ptr<FaultyMetastore> m_;
};

TEST_P(Faults, AFailedCallChangesNothing) {
  m_->fail_call = 1;
  meta::Run run{.kind = "workflow", .name = "w", .trigger = "arrival"};
  EXPECT_THROW(m_->EnqueueArrivals("w", {"landing/a"}, run, Keys), Error);
  EXPECT_TRUE(m_->ArrivedKeys("w").empty());
  EXPECT_TRUE(m_->ListRuns({}).empty());
}

// The caller sees an error although the arrival was recorded: its retry queues nothing twice.
TEST_P(Faults, ARetriedArrivalAfterALostReplyQueuesOnce) {
  m_->fail_call = 1;
  m_->fail_after = true;
  meta::Run run{.kind = "workflow", .name = "w", .trigger = "arrival"};
  EXPECT_THROW(m_->EnqueueArrivals("w", {"landing/a"}, run, Keys), Error);
  EXPECT_EQ(m_->EnqueueArrivals("w", {"landing/a"}, run, Keys), 0);
  EXPECT_EQ(m_->ListRuns({}).size(), 1u);
  // A new key with the old one queues the new key only.
  int64_t id = m_->EnqueueArrivals("w", {"landing/a", "landing/b"}, run, Keys);
  ASSERT_GT(id, 0);
  EXPECT_EQ(m_->GetRun(id)->params, "landing/b;");
}

// A commit whose reply was lost: retried as is, it is refused as a conflict (the table moved, the
// bookmarks are taken) and publishes nothing twice.
TEST_P(Faults, ARetriedCommitAfterALostReplyIsAConflict) {
  int64_t id = m_->StartRun("job", "clean", "manual", "");
  RunCommit c;
  c.run =
      meta::Run{.id = id, .kind = "job", .name = "clean", .status = meta::RunStatus::kSucceeded};
  TableChange t{.db = "silver", .name = "orders", .kind = "job", .format = "parquet"};
  t.added.push_back({"staging/orders/a", 10});
  t.base_version = 0;
  c.tables.push_back(t);
  c.bookmark_job = "clean";
  c.bookmark_keys = {"landing/orders/a.csv"};
  m_->fail_call = 2;
  m_->fail_after = true;
  EXPECT_THROW(m_->CommitRun(c), Error);
  try {
    m_->CommitRun(c);
    ADD_FAILURE() << "committed twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
    EXPECT_EQ(e.code(), "publish.conflict");
  }
  EXPECT_EQ(m_->GetTable("silver", "orders")->version, 1);
  EXPECT_EQ(m_->Bookmarks("clean").size(), 1u);
}

TEST(ErrorKinds, AConflictIsNamedAndExitsWithTempfail) {
  EXPECT_STREQ(ErrorKindName(ErrorKind::kConflict), "conflict");
  EXPECT_EQ(ExitCodeFor(ErrorKind::kConflict), 75);
}

// Two processes on one metastore, released together: each runs `race` on its own connection
// and answers a byte (1: won, 0: lost as the contract says, 2: anything else). Bounded: a process
// still running after 30 s fails the test and is killed.
std::vector<int> RaceTwo(const std::string& uri, const std::function<int(Metastore&, int)>& race) {
  int barrier[2], answers[2];
  EXPECT_EQ(pipe(barrier), 0);
  EXPECT_EQ(pipe(answers), 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(barrier[1]);
      char answer = 2;
      try {
        auto m = Open(uri);
        char c;
        (void)!read(barrier[0], &c, 1);  // EOF: the parent released everyone
        answer = static_cast<char>(race(*m, i));
      } catch (...) {
      }
      (void)!write(answers[1], &answer, 1);
      _exit(0);
    }
    pids.push_back(pid);
  }
  close(barrier[0]);
  close(answers[1]);
  usleep(100 * 1000);  // both connections open and waiting
  close(barrier[1]);
  std::vector<int> out;
  int64_t deadline = MonotonicMs() + 30000;
  while (out.size() < 2 && MonotonicMs() < deadline) {
    pollfd p{answers[0], POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char c;
    if (read(answers[0], &c, 1) != 1) break;
    out.push_back(c);
  }
  for (pid_t pid : pids) {
    if (out.size() < 2) kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  close(answers[0]);
  EXPECT_EQ(out.size(), 2u) << "a racer did not answer in time";
  std::sort(out.begin(), out.end());
  return out;
}

class Races : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    SLUICE_REQUIRE_BACKEND(GetParam());
    dir_ = fs::temp_directory_path() / ("sluice-race-" + UniqueSuffix());
    fs::create_directories(dir_);
    uri_ = GetParam().uri(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  const std::string& db() const { return uri_; }
  fs::path dir_;
  std::string uri_;
};

TEST_P(Races, TwoCommitsOnOneBaseVersionPublishOnce) {
  { Open(db()); }
  auto winners = RaceTwo(db(), [](Metastore& m, int i) {
    int64_t id = m.StartRun("job", "clean", "manual", "");
    RunCommit c;
    c.run =
        meta::Run{.id = id, .kind = "job", .name = "clean", .status = meta::RunStatus::kSucceeded};
    TableChange t{.db = "silver", .name = "orders", .kind = "job", .format = "parquet"};
    t.added.push_back({"staging/orders/" + std::to_string(i), 10});
    t.base_version = 0;
    c.tables.push_back(t);
    try {
      m.CommitRun(c);
      return 1;
    } catch (const Error& e) {
      return e.kind() == ErrorKind::kConflict && e.code() == "publish.conflict" ? 0 : 2;
    }
  });
  EXPECT_EQ(winners, (std::vector<int>{0, 1}));
  auto m = Open(db());
  EXPECT_EQ(m->GetTable("silver", "orders")->version, 1);
}

TEST_P(Races, AScheduleMarkAdvancesOnce) {
  {
    auto m = Open(db());
    ASSERT_TRUE(m->FireSchedule("w", "cron", std::nullopt, 1000, {}));
  }
  auto winners = RaceTwo(db(), [](Metastore& m, int i) {
    meta::Run run{.kind = "workflow", .name = "w", .trigger = "schedule"};
    return m.FireSchedule("w", "cron", 1000, 2000 + i, {run, run}).has_value();
  });
  EXPECT_EQ(winners, (std::vector<int>{0, 1}));
  EXPECT_EQ(Open(db())->ListRuns({}).size(), 2u);  // the winner's two fire times, once
}

TEST_P(Races, ARunIsClaimedOnce) {
  int64_t id = 0;
  {
    auto m = Open(db());
    id = m->EnqueueRun(meta::Run{.kind = "workflow", .name = "w"});
  }
  auto winners = RaceTwo(
      db(), [id](Metastore& m, int i) { return m.ClaimRun(id, "owner-" + std::to_string(i)); });
  EXPECT_EQ(winners, (std::vector<int>{0, 1}));
}

TEST_P(Races, AnArrivalQueuesOnce) {
  { Open(db()); }
  auto winners = RaceTwo(db(), [](Metastore& m, int) {
    meta::Run run{.kind = "workflow", .name = "w", .trigger = "arrival"};
    return m.EnqueueArrivals("w", {"landing/a"}, run, [](const auto&) { return "{}"; }) > 0;
  });
  EXPECT_EQ(winners, (std::vector<int>{0, 1}));
  auto m = Open(db());
  EXPECT_EQ(m->ListRuns({}).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Faults, ::testing::ValuesIn(testing::Backends()),
                         testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, Races, ::testing::ValuesIn(testing::Backends()),
                         testing::BackendName);

}  // namespace
}  // namespace sluice::meta
