#include "meta/run_log.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/time.h"

namespace sluice::meta {

void RunLog::FailRun(Run run, const std::string& error, const std::vector<RunStep>& steps,
                     const std::vector<CheckResult>& checks) {
  run.status = RunStatus::kFailed;
  run.error = error;
  run.ended_ms = NowMs();
  FinishRun(run, steps, checks);
}

void RunLog::StopRun(Run run, const std::exception& cause, const std::string& error,
                     const std::vector<RunStep>& steps, const std::vector<CheckResult>& checks) {
  const auto* e = dynamic_cast<const Error*>(&cause);
  run.status =
      e && e->kind() == ErrorKind::kInterrupted ? RunStatus::kCancelled : RunStatus::kFailed;
  run.error = error;
  run.ended_ms = NowMs();
  FinishRun(run, steps, checks);
}

std::vector<Run> RunLog::FailAbandonedRuns() {
  std::vector<Run> failed;
  for (auto& run : ListRuns({.statuses = {RunStatus::kRunning}, .limit = 100000})) {
    if (run.kind == "workflow" || OwnerAlive(run.owner)) continue;
    FailRun(run, fmt::format("interrupted: the process running it ({}) stopped before it "
                             "finished; nothing it wrote was published",
                             run.owner.empty() ? "unknown" : run.owner));
    failed.push_back(std::move(run));
  }
  return failed;
}

}  // namespace sluice::meta
