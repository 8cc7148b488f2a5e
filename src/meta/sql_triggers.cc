#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

int64_t SqlTriggers::EnqueueArrivals(
    const std::string& workflow, const std::vector<std::string>& keys, Run run,
    const std::function<std::string(const std::vector<std::string>&)>& params) {
  Transaction tx(core_);
  std::vector<std::string> fresh;
  std::set<std::string> unique(keys.begin(), keys.end());
  for (const auto& key : unique) {
    Statement s(core_, "SELECT 1 FROM arrivals WHERE workflow = ? AND key = ?");
    s.Bind(1, workflow).Bind(2, key);
    if (!s.Step()) fresh.push_back(key);
  }
  if (fresh.empty()) return 0;
  run.params = params(fresh);
  int64_t id = InsertQueuedRun(core_, run);
  int64_t now = NowMs();
  for (const auto& key : fresh) {
    Statement s(core_, "INSERT INTO arrivals (workflow, key, run_id, seen_ms) VALUES (?, ?, ?, ?)" +
                           core_.dialect().Upsert("workflow, key", {}));
    s.Bind(1, workflow).Bind(2, key).Bind(3, id).Bind(4, now).Run();
  }
  tx.Commit();
  return id;
}

std::set<std::string> SqlTriggers::ArrivedKeys(const std::string& workflow) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT key FROM arrivals WHERE workflow = ?");
  s.Bind(1, workflow);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

std::optional<int64_t> SqlTriggers::ScheduleMark(const std::string& workflow,
                                                 const std::string& trigger) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT fire_ms FROM schedule_marks WHERE workflow = ? AND trigger = ?");
  s.Bind(1, workflow).Bind(2, trigger);
  if (!s.Step()) return std::nullopt;
  return s.Int(0);
}

std::optional<std::vector<int64_t>> SqlTriggers::FireSchedule(const std::string& workflow,
                                                              const std::string& trigger,
                                                              std::optional<int64_t> previous,
                                                              int64_t fire_ms,
                                                              const std::vector<Run>& runs) {
  Transaction tx(core_);
  if (!previous) {
    Statement s(core_, "INSERT INTO schedule_marks (workflow, trigger, fire_ms) VALUES (?, ?, ?)" +
                           core_.dialect().Upsert("workflow, trigger", {}));
    s.Bind(1, workflow).Bind(2, trigger).Bind(3, fire_ms).Run();
  } else {
    Statement s(core_,
                "UPDATE schedule_marks SET fire_ms = ? WHERE workflow = ? AND trigger = ? AND "
                "fire_ms = ?");
    s.Bind(1, fire_ms).Bind(2, workflow).Bind(3, trigger).Bind(4, *previous).Run();
  }
  if (core_.Changes() != 1) return std::nullopt;  // another server moved it: it fired
  std::vector<int64_t> ids;
  for (const Run& run : runs) ids.push_back(InsertQueuedRun(core_, run));
  tx.Commit();
  return ids;
}

}  // namespace sluice::meta
