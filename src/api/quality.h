#pragma once
// The JSON of data quality: a rule's result as `sluice check` judged it, and a table's rule
// results over its last runs (`sluice quality`).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "meta/metastore.h"

namespace sluice::api {

// rule, outcome, observed, value, threshold, failing_rows, on_fail, message (redacted). Not the
// shape of a check inside a run (api::CheckJson): that one names the table and leaves out value
// and threshold.
nlohmann::json RuleResultJson(const meta::CheckResult& result);

// One rule's results, oldest first.
struct RuleHistory {
  std::string rule;
  std::vector<meta::CheckHistoryEntry> results;
};

// `history` (as CheckHistory answers it) grouped by rule, rules in the order first seen.
std::vector<RuleHistory> ByRule(const std::vector<meta::CheckHistoryEntry>& history);

// [{rule, results: [{run_id, time, outcome, observed, value}]}].
nlohmann::json QualityHistoryJson(const std::vector<RuleHistory>& rules);

}  // namespace sluice::api
