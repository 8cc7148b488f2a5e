#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

std::vector<double> SqlQualityHistory::RuleHistory(const std::string& table,
                                                   const std::string& rule, size_t n,
                                                   const std::string& kind) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT c.value FROM check_results c JOIN runs r ON r.id = c.run_id WHERE "
              "c.table_name = ? AND c.rule = ? AND c.value IS NOT NULL AND r.status = " +
                  Sql(RunStatus::kSucceeded) + " AND r.kind = ? ORDER BY c.run_id DESC LIMIT ?");
  s.Bind(1, table).Bind(2, rule).Bind(3, kind).Bind(4, static_cast<int64_t>(n));
  std::vector<double> out;
  while (s.Step()) out.push_back(s.Double(0));
  return out;
}

std::vector<CheckHistoryEntry> SqlQualityHistory::CheckHistory(const std::string& table,
                                                               size_t runs) {
  auto lock = core_.Lock();
  Statement s(
      core_,
      "SELECT c.run_id, r.started_ms, c.rule, c.on_fail, c.outcome, c.observed, c.value, "
      "c.threshold FROM check_results c JOIN runs r ON r.id = c.run_id WHERE c.table_name = ? "
      "AND c.run_id IN (SELECT DISTINCT run_id FROM check_results WHERE table_name = ? ORDER "
      "BY run_id DESC LIMIT ?) ORDER BY c.run_id, c.seq");
  s.Bind(1, table).Bind(2, table).Bind(3, static_cast<int64_t>(runs));
  std::vector<CheckHistoryEntry> out;
  while (s.Step()) {
    CheckHistoryEntry e{s.Int(0), s.Int(1), {}};
    e.result.table = table;
    e.result.rule = s.Text(2);
    e.result.on_fail = s.Text(3);
    e.result.outcome = s.Text(4);
    e.result.observed = s.Text(5);
    if (!s.IsNull(6)) e.result.value = s.Double(6);
    e.result.threshold = s.Text(7);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sluice::meta
