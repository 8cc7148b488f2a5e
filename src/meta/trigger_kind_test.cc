#include "meta/trigger_kind.h"

#include <gtest/gtest.h>

namespace sluice::meta {
namespace {

TEST(TriggerKind, DerivedFromTheRecordedTrigger) {
  EXPECT_EQ(TriggerKindOf("manual"), TriggerKind::kManual);
  EXPECT_EQ(TriggerKindOf("api"), TriggerKind::kApi);
  EXPECT_EQ(TriggerKindOf("arrival orders"), TriggerKind::kArrival);
  EXPECT_EQ(TriggerKindOf("arrival (batch of 3)"), TriggerKind::kArrival);
  EXPECT_EQ(TriggerKindOf("schedule 0 6 * * *"), TriggerKind::kSchedule);
  EXPECT_EQ(TriggerKindOf("after load run 4"), TriggerKind::kAfter);
  EXPECT_EQ(TriggerKindOf("workflow orders run 42"), TriggerKind::kParent);
  // Anything else (older releases, an empty text) is manual: every run has one kind.
  EXPECT_EQ(TriggerKindOf(""), TriggerKind::kManual);
  EXPECT_EQ(TriggerKindOf("apis"), TriggerKind::kManual);
}

TEST(TriggerKind, WordsRoundTrip) {
  for (const auto& word : TriggerKindWords()) {
    auto kind = FindTriggerKind(word);
    ASSERT_TRUE(kind) << word;
    EXPECT_EQ(ToString(*kind), word);
  }
  EXPECT_FALSE(FindTriggerKind("cron"));
  EXPECT_FALSE(FindTriggerKind(""));
}

}  // namespace
}  // namespace sluice::meta
