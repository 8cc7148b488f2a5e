#pragma once
// meta::RunLog: every run (crawl, job, model, workflow) with its status, figures, steps, check
// results and log lines — the status table users read.
//
// Contract, for every backend:
// - Each call is one transaction: it takes effect whole or not at all.
// - A missing run answers nullopt or an empty list; writing to a missing run changes nothing.
// - Run ids and log line ids only grow.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call any method at any time; FinishRun of one run is called by
//   the one process running it.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class RunLog {
 public:
  virtual ~RunLog() = default;

  // Records a running run owned by this process (common/process.h) and returns its id.
  // `snapshot` is the hash of the definitions it runs (stored in SnapshotStore first), or "".
  virtual int64_t StartRun(const std::string& kind, const std::string& name,
                           const std::string& trigger, const std::string& snapshot) = 0;
  // Ends a run that publishes nothing (failed, or nothing to do), with its steps and checks.
  virtual void FinishRun(const Run& run, const std::vector<RunStep>& steps,
                         const std::vector<CheckResult>& checks) = 0;
  // Ends `run` as failed now, with `error`, keeping the steps and check results it got to.
  void FailRun(Run run, const std::string& error, const std::vector<RunStep>& steps = {},
               const std::vector<CheckResult>& checks = {});
  // As FailRun for a run that `cause` stopped: recorded cancelled when `cause` is an
  // interruption (sluice::Error of kind kInterrupted: Ctrl-C, SIGTERM, a server stopping), failed
  // otherwise.
  void StopRun(Run run, const std::exception& cause, const std::string& error,
               const std::vector<RunStep>& steps = {}, const std::vector<CheckResult>& checks = {});
  // Runs matching `filter`, newest first.
  virtual std::vector<Run> ListRuns(const RunFilter& filter) = 0;
  virtual std::optional<Run> GetRun(int64_t id) = 0;
  // Ends as failed, with the reason, every crawl, job and model run left `running` by a process
  // of this host that is gone (common/process.h: host, pid and start time, so a reused pid does
  // not pass for it); returns them. Nothing such a run wrote was published. Workflow runs are
  // left as they are: they resume (a server's start, `sluice retry`). Every command that opens
  // the metastore calls it; two processes calling it at once fail each run once.
  std::vector<Run> FailAbandonedRuns();

  // The steps and check results a crawl/job/model run recorded, in order.
  virtual std::vector<RunStep> RunSteps(int64_t run_id) = 0;
  virtual std::vector<CheckResult> CheckResults(int64_t run_id) = 0;

  // Appends a log line and returns its id.
  virtual int64_t AppendLog(int64_t run_id, const std::string& level, const std::string& step,
                            const std::string& message) = 0;
  // A run's log lines with id > after_id, oldest first, at most `limit`.
  virtual std::vector<LogLine> Logs(int64_t run_id, int64_t after_id, size_t limit) = 0;
};

}  // namespace sluice::meta
