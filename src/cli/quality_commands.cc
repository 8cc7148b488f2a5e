// Commands for data quality: check, quality.
#include <fmt/format.h>

#include <iostream>

#include "api/quality.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "transform/checks.h"

namespace sluice::cli {

using nlohmann::json;

int Check(const Global& g, const std::string& table_text, const std::string& rules_file,
          const std::string& format) {
  auto ws = Open(g);
  auto table = CatalogTable(ws, table_text);
  auto rules = transform::TableRules(ws, table, rules_file);
  auto report = transform::CheckTable(ws, table, rules, "manual");
  if (format == "json") {
    json out = json::array();
    for (const auto& c : report.results) out.push_back(api::RuleResultJson(c));
    PrintJson(out);
  } else {
    TextTable t{{"rule", "outcome", "observed", "failing rows", "note"},
                {false, false, false, true, false},
                {}};
    int passed = 0;
    for (const auto& c : report.results) {
      passed += c.outcome == "pass";
      t.rows.push_back({c.rule, c.outcome, c.observed,
                        c.failing_rows < 0 ? "" : HumanCount(c.failing_rows),
                        Split(Redact(c.message), '\n').front()});
    }
    t.Print();
    std::cout << fmt::format("{}: {} of {} rules passed in {} ms (run {})\n", table.str(), passed,
                             report.results.size(), report.duration_ms, report.run_id);
  }
  return report.failed() ? 3 : 0;
}

int Quality(const Global& g, const std::string& table_text, size_t runs,
            const std::string& format) {
  auto ws = Open(g);
  auto table = TableArg(table_text);
  auto history = ws.metastore->CheckHistory(table.str(), runs);
  auto rules = api::ByRule(ws.metastore->CheckHistory(table.str(), runs));
  if (format == "json") {
    PrintJson(api::QualityHistoryJson(rules));
    return 0;
  }
  if (rules.empty()) {
    std::cout << fmt::format(
        "No check results for {} yet: `sluice check {}` or a job's checks "
        "make them.\n",
        table.str(), table.str());
    return 0;
  }
  TextTable t{{"rule", "last", "history (oldest first)", "passed", "observed", "trend"},
              {false, false, false, true, false, false},
              {}};
  for (const auto& [rule, results] : rules) {
    std::string marks;
    int passed = 0;
    for (const auto& e : results) {
      marks += e.result.outcome == "pass" ? "+" : e.result.outcome == "fail" ? "x" : "!";
      passed += e.result.outcome == "pass";
    }
    std::string trend;
    const auto& first = results.front().result;
    const auto& last = results.back().result;
    if (first.value && last.value && results.size() > 1) {
      double d = *last.value - *first.value;
      trend = d > 0 ? fmt::format("up {:g}", d) : d < 0 ? fmt::format("down {:g}", -d) : "flat";
    }
    t.rows.push_back({rule, last.outcome, marks, fmt::format("{}/{}", passed, results.size()),
                      last.observed, trend});
  }
  t.Print();
  std::cout << "history: + pass, x fail, ! error\n";
  return 0;
}

}  // namespace sluice::cli
