#pragma once
// meta::WorkflowState: the durable state of a workflow run's steps and their attempts, which lets
// a restarted server skip what is done and retry what was interrupted.
//
// Contract, for every backend:
// - Each call is one transaction: an attempt and its step change together.
// - A missing run or step: reads answer an empty list; SetAttemptChild/EndAttempt change nothing.
// - Failures of the database throw Error(kIo).
// - One process writes a run's steps (the one that claimed it, see WorkQueue::ClaimRun); any
//   process may read them at any time.
#include <cstdint>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class WorkflowState {
 public:
  virtual ~WorkflowState() = default;

  // A run's steps and attempts, in the order they started.
  virtual std::vector<StepState> Steps(int64_t run_id) = 0;
  virtual std::vector<Attempt> Attempts(int64_t run_id) = 0;
  // Records attempt `attempt` of a step as running (the step too); beginning the same attempt
  // again starts it afresh. A step's times span its attempts within one run of it: one retried
  // by its retry rule keeps the start of its first attempt, one that had ended (failed or
  // cancelled, its run retried since) starts afresh with this attempt. The step's kind becomes
  // `kind` (a retry on the current definitions may run another kind of step under its name).
  virtual void BeginAttempt(int64_t run_id, const std::string& path, const std::string& kind,
                            int attempt) = 0;
  // The child run (job, crawl, model, workflow) an attempt started.
  virtual void SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                               int64_t child_run_id) = 0;
  // Ends an attempt and sets its step's status, output and error. Both moves must be allowed by
  // the status table (meta/status.h): a refused one, or a status word it does not know, throws
  // Error(kInternal) and changes nothing.
  virtual void EndAttempt(const Attempt& attempt, StepStatus step_status,
                          const std::string& output) = 0;
};

}  // namespace sluice::meta
