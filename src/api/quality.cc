#include "api/quality.h"

#include <map>

#include "api/runs.h"
#include "common/redact.h"
#include "quality/rules.h"

namespace sluice::api {

using nlohmann::json;

json RuleResultJson(const meta::CheckResult& c) {
  return {{"rule", c.rule},           {"outcome", c.outcome},
          {"observed", c.observed},   {"value", c.value ? json(*c.value) : json(nullptr)},
          {"threshold", c.threshold}, {"failing_rows", quality::FailingRowsJson(c)},
          {"on_fail", c.on_fail},     {"message", Redact(c.message)}};
}

std::vector<RuleHistory> ByRule(const std::vector<meta::CheckHistoryEntry>& history) {
  std::vector<RuleHistory> out;
  std::map<std::string, size_t> index;
  for (const auto& e : history) {
    auto [it, added] = index.emplace(e.result.rule, out.size());
    if (added) out.push_back({e.result.rule, {}});
    out[it->second].results.push_back(e);
  }
  return out;
}

json QualityHistoryJson(const std::vector<RuleHistory>& rules) {
  json out = json::array();
  for (const auto& rule : rules) {
    json results = json::array();
    for (const auto& e : rule.results) {
      results.push_back({{"run_id", e.run_id},
                         {"time", TimeJson(e.time_ms)},
                         {"outcome", e.result.outcome},
                         {"observed", e.result.observed},
                         {"value", e.result.value ? json(*e.result.value) : json(nullptr)}});
    }
    out.push_back({{"rule", rule.rule}, {"results", results}});
  }
  return out;
}

}  // namespace sluice::api
