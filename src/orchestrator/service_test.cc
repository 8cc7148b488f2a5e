// Schedule catch-up after downtime.
#include "orchestrator/service.h"

#include <gtest/gtest.h>

namespace sluice::orchestrator {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'790'000'000'000 / kHour * kHour;  // a whole hour, in 2026

TEST(ScheduleDue, AFirstStartBeginsFromNow) {
  auto cron = Cron::Parse("0 * * * *");
  auto due = ScheduleDue(cron, std::nullopt, kT0 + 5 * kHour + 10, true, "all");
  EXPECT_TRUE(due.run.empty());
  EXPECT_EQ(due.mark, kT0 + 5 * kHour + 10);
}

TEST(ScheduleDue, WhileRunningEveryFireTimeRuns) {
  auto cron = Cron::Parse("0 * * * *");
  auto due = ScheduleDue(cron, kT0, kT0 + kHour + 5, false, "none");
  EXPECT_EQ(due.run, std::vector<int64_t>{kT0 + kHour});
  EXPECT_EQ(due.mark, kT0 + kHour);
  EXPECT_TRUE(ScheduleDue(cron, due.mark, kT0 + kHour + 900, false, "none").run.empty());
}

TEST(ScheduleDue, LongDowntimeOfAFrequentScheduleRunsOnlyTheLatest) {
  auto cron = Cron::Parse("* * * * *");
  int64_t now = kT0 + 8 * 24 * kHour + 30'000;  // eight days of minutes missed
  auto latest = ScheduleDue(cron, kT0, now, true, "latest");
  EXPECT_EQ(latest.run, std::vector<int64_t>{kT0 + 8 * 24 * kHour});
  EXPECT_EQ(latest.mark, kT0 + 8 * 24 * kHour);
  EXPECT_TRUE(ScheduleDue(cron, latest.mark, now + 10'000, false, "latest").run.empty());
  auto none = ScheduleDue(cron, kT0, now, true, "none");
  EXPECT_TRUE(none.run.empty());
  EXPECT_EQ(none.mark, kT0 + 8 * 24 * kHour);
}

TEST(ScheduleDue, ASuspendedServerAppliesCatchUpToo) {
  auto cron = Cron::Parse("*/10 * * * *");
  // Not a start: the scheduler thread woke two hours late (a suspended laptop).
  auto due = ScheduleDue(cron, kT0, kT0 + 2 * kHour + 5, false, "none");
  EXPECT_TRUE(due.run.empty());
  EXPECT_EQ(due.mark, kT0 + 2 * kHour);
}

TEST(ScheduleDue, CatchUpAfterDowntime) {
  auto cron = Cron::Parse("0 * * * *");
  int64_t now = kT0 + 3 * kHour + 60'000;  // down for three fire times
  EXPECT_TRUE(ScheduleDue(cron, kT0, now, true, "none").run.empty());
  EXPECT_EQ(ScheduleDue(cron, kT0, now, true, "none").mark, kT0 + 3 * kHour);
  EXPECT_EQ(ScheduleDue(cron, kT0, now, true, "latest").run, std::vector<int64_t>{kT0 + 3 * kHour});
  EXPECT_EQ(ScheduleDue(cron, kT0, now, true, "all").run,
            (std::vector<int64_t>{kT0 + kHour, kT0 + 2 * kHour, kT0 + 3 * kHour}));
}

}  // namespace
}  // namespace sluice::orchestrator
