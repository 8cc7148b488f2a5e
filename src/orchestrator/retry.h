#pragma once
// Retrying a workflow run from its failed steps (`sluice retry`, POST /api/runs/ID/retry): on the
// definitions the run recorded, as Step Functions' redrive does, or on the project's current ones,
// as Airflow's clear does. Steps that succeeded stay done either way.
#include <string>

#include "meta/metastore.h"
#include "transform/workspace.h"

namespace sluice::orchestrator {

// Which definitions a retried run runs.
enum class RetryDefinitions {
  kRecorded,  // those it recorded: the ones it was queued with (or a --latest retry's since)
  kLatest,    // the project's current ones, which the run records from then on
};
std::string ToString(RetryDefinitions definitions);  // "recorded" | "latest"

// A retry, decided: what it runs.
struct RetryPlan {
  meta::Run run;  // as read before the retry
  RetryDefinitions definitions = RetryDefinitions::kRecorded;
  // What it runs: the definitions, their hash ("" for a run recorded before snapshots, which
  // runs the project's current ones with its own workflow) and the workflow file.
  transform::Workspace workspace;
  std::string snapshot;
  std::string workflow;
  std::string current;  // the hash of the project's current definitions

  // One line naming the definitions it runs, e.g. "retrying run 1 (workflow build) from its
  // failed steps with the definitions it ran (snapshot 3f2a9c1d0b7e), the project's current
  // ones too".
  std::string Describe() const;
};

// Decides a retry of `run`, a top-level workflow run, on `definitions`, `current` being the
// project as loaded now. Throws Error(kUsage) usage.not_workflow_run; for kLatest,
// usage.retry_latest_workflow_gone when the run's workflow is not in `current` and
// usage.retry_latest_step_gone when a step of the run that did not succeed is not in the current
// workflow; Error(kConfig) snapshot.missing when the recorded definitions are not stored. The
// run's status is Redrive's to judge, in its conditional write.
RetryPlan PlanRetry(const transform::Workspace& current, const meta::Run& run,
                    RetryDefinitions definitions);

// Puts the planned run, failed or cancelled, back in the queue (with kLatest, recording the
// current definitions for it in the same write) and logs the plan's Describe line. Throws
// Error(kUsage) usage.not_retryable when the run was not failed or cancelled, and
// Error(kConflict) run.conflict when it was but moved since (another retry took it first).
void Redrive(meta::Metastore& metastore, const RetryPlan& plan);

}  // namespace sluice::orchestrator
