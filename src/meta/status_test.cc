#include "meta/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "common/error.h"
#include "meta/sql_core.h"

namespace sluice::meta {
namespace {

// Every move the table allows, as words; each test checks the table answers exactly these.
template <typename S>
void ExpectMoves(int count, const std::set<std::pair<std::string, std::string>>& allowed) {
  for (int f = 0; f < count; ++f) {
    for (int t = 0; t < count; ++t) {
      auto from = static_cast<S>(f), to = static_cast<S>(t);
      bool want = allowed.count({ToString(from), ToString(to)}) == 1;
      EXPECT_EQ(CanTransition(from, to), want) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST(StatusTest, RunMoves) {
  ExpectMoves<RunStatus>(5, {{"queued", "running"},
                             {"queued", "cancelled"},
                             {"running", "succeeded"},
                             {"running", "failed"},
                             {"running", "cancelled"},
                             {"running", "queued"},
                             {"failed", "queued"},
                             {"cancelled", "queued"}});
  EXPECT_FALSE(CanTransition(RunStatus::kSucceeded, RunStatus::kQueued));
  EXPECT_FALSE(CanTransition(RunStatus::kQueued, RunStatus::kSucceeded));
}

TEST(StatusTest, StepMoves) {
  ExpectMoves<StepStatus>(7, {{"running", "running"},
                              {"running", "retrying"},
                              {"running", "catching"},
                              {"running", "succeeded"},
                              {"running", "failed"},
                              {"running", "cancelled"},
                              {"retrying", "running"},
                              {"retrying", "failed"},
                              {"retrying", "cancelled"},
                              {"catching", "caught"},
                              {"catching", "failed"},
                              {"catching", "cancelled"},
                              {"failed", "running"},
                              {"failed", "retrying"},
                              {"cancelled", "running"},
                              {"cancelled", "retrying"}});
  EXPECT_FALSE(CanTransition(StepStatus::kSucceeded, StepStatus::kRunning));
  EXPECT_FALSE(CanTransition(StepStatus::kCaught, StepStatus::kFailed));
}

TEST(StatusTest, AttemptMoves) {
  ExpectMoves<AttemptStatus>(5, {{"running", "succeeded"},
                                 {"running", "failed"},
                                 {"running", "interrupted"},
                                 {"running", "cancelled"},
                                 {"failed", "succeeded"},
                                 {"failed", "failed"},
                                 {"failed", "interrupted"},
                                 {"failed", "cancelled"},
                                 {"interrupted", "succeeded"},
                                 {"interrupted", "failed"},
                                 {"interrupted", "interrupted"},
                                 {"interrupted", "cancelled"},
                                 {"cancelled", "succeeded"},
                                 {"cancelled", "failed"},
                                 {"cancelled", "interrupted"},
                                 {"cancelled", "cancelled"}});
  EXPECT_FALSE(CanTransition(AttemptStatus::kFailed, AttemptStatus::kRunning));
  EXPECT_FALSE(CanTransition(AttemptStatus::kSucceeded, AttemptStatus::kRunning));
}

TEST(StatusTest, WordsRoundTrip) {
  for (int i = 0; i < 5; ++i) {
    auto s = static_cast<RunStatus>(i);
    EXPECT_EQ(ParseRunStatus(ToString(s)), s);
    auto a = static_cast<AttemptStatus>(i);
    EXPECT_EQ(ParseAttemptStatus(ToString(a)), a);
  }
  for (int i = 0; i < 7; ++i) {
    auto s = static_cast<StepStatus>(i);
    EXPECT_EQ(ParseStepStatus(ToString(s)), s);
  }
  EXPECT_STREQ(ToString(RunStatus::kCancelled), "cancelled");
  EXPECT_STREQ(ToString(StepStatus::kCatching), "catching");
  EXPECT_STREQ(ToString(AttemptStatus::kInterrupted), "interrupted");
  for (int i = 0; i < 3; ++i) {
    auto f = static_cast<FileStatus>(i);
    EXPECT_EQ(ParseFileStatus(ToString(f)), f);
  }
  EXPECT_STREQ(ToString(FileStatus::kHeld), "held");
  for (int i = 0; i < 5; ++i) {
    auto l = static_cast<LandingState>(i);
    EXPECT_EQ(FindLandingState(ToString(l)), l);
  }
  EXPECT_FALSE(FindLandingState("active"));
  EXPECT_EQ(LandingStateOf(FileStatus::kActive), LandingState::kRegistered);
  EXPECT_EQ(LandingStateOf(FileStatus::kHeld), LandingState::kHeld);
  EXPECT_EQ(LandingStateOf(FileStatus::kQuarantined), LandingState::kQuarantined);
  EXPECT_THROW(ParseFileStatus("waiting"), Error);
}

TEST(StatusTest, TerminalStatuses) {
  EXPECT_FALSE(IsTerminal(RunStatus::kQueued));
  EXPECT_FALSE(IsTerminal(RunStatus::kRunning));
  EXPECT_TRUE(IsTerminal(RunStatus::kFailed));
  EXPECT_FALSE(IsTerminal(StepStatus::kRetrying));
  EXPECT_FALSE(IsTerminal(StepStatus::kCatching));
  EXPECT_TRUE(IsTerminal(StepStatus::kCaught));
  EXPECT_TRUE(IsTerminal(AttemptStatus::kInterrupted));
}

TEST(StatusTest, UnknownWordsAndRefusedMovesAreInternalErrors) {
  try {
    ParseRunStatus("paused");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_STREQ(e.what(), "unknown run status 'paused'");
  }
  EXPECT_THROW(ParseStepStatus("Running"), Error);
  EXPECT_THROW(ParseAttemptStatus(""), Error);
  try {
    CheckTransition(RunStatus::kSucceeded, RunStatus::kRunning);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInternal);
    EXPECT_STREQ(e.what(), "refused run status move from succeeded to running");
  }
  EXPECT_NO_THROW(CheckTransition(StepStatus::kCatching, StepStatus::kCaught));
}

TEST(StatusTest, FindRunStatusReadsOnlyRunWords) {
  EXPECT_EQ(FindRunStatus("failed"), RunStatus::kFailed);
  EXPECT_EQ(FindRunStatus("caught"), std::nullopt);  // a step status, not a run's
  EXPECT_EQ(FindRunStatus("FAILED"), std::nullopt);
  EXPECT_EQ(FindRunStatus(""), std::nullopt);
}

TEST(StatusTest, MovesToSpellsAllowedMovesAndRefusesOthers) {
  EXPECT_EQ(MovesTo({RunStatus::kFailed, RunStatus::kCancelled}, RunStatus::kQueued),
            "('failed', 'cancelled')");
  EXPECT_EQ(Sql(StepStatus::kRetrying), "'retrying'");
  EXPECT_THROW(MovesTo({RunStatus::kSucceeded}, RunStatus::kQueued), Error);
}

}  // namespace
}  // namespace sluice::meta
