#include "api/quality.h"

#include <gtest/gtest.h>

namespace sluice::api {
namespace {

meta::CheckHistoryEntry Entry(int64_t run_id, const std::string& rule, const std::string& outcome) {
  meta::CheckHistoryEntry e;
  e.run_id = run_id;
  e.time_ms = run_id * 1000;
  e.result.rule = rule;
  e.result.outcome = outcome;
  return e;
}

TEST(QualityHistory, GroupsByRuleInTheOrderFirstSeen) {
  auto rules = ByRule({Entry(1, "RowCount > 0", "pass"), Entry(1, "IsComplete \"id\"", "fail"),
                       Entry(2, "RowCount > 0", "fail"), Entry(3, "IsUnique \"id\"", "pass")});
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].rule, "RowCount > 0");
  ASSERT_EQ(rules[0].results.size(), 2u);
  EXPECT_EQ(rules[0].results[1].run_id, 2);
  EXPECT_EQ(rules[1].rule, "IsComplete \"id\"");
  EXPECT_EQ(rules[2].rule, "IsUnique \"id\"");

  auto json = QualityHistoryJson(rules);
  EXPECT_EQ(json[0]["rule"], "RowCount > 0");
  EXPECT_EQ(json[0]["results"][1]["outcome"], "fail");
  EXPECT_EQ(json[0]["results"][0]["time"], "1970-01-01T00:00:01.000Z");
  EXPECT_TRUE(json[0]["results"][0]["value"].is_null());
}

}  // namespace
}  // namespace sluice::api
