#include "orchestrator/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/strings.h"
#include "orchestrator/workflow_resolve.h"

namespace sluice::orchestrator {

namespace {

using project::WorkflowStep;
using Segments = std::vector<std::string>;

std::string Short(const std::string& hash) { return hash.substr(0, 12); }

bool IsIndex(const std::string& text) {
  return !text.empty() && text.size() < 10 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The step of `steps` a path segment names: its id, or "ID@N" for a container's N-th attempt.
const WorkflowStep* StepNamed(const std::vector<WorkflowStep>& steps, const std::string& segment) {
  auto named = [&](const std::string& id) -> const WorkflowStep* {
    for (const auto& step : steps) {
      if (step.id == id) return &step;
    }
    return nullptr;
  };
  if (const auto* step = named(segment)) return step;
  size_t at = segment.rfind('@');
  if (at == std::string::npos || !IsIndex(segment.substr(at + 1))) return nullptr;
  return named(segment.substr(0, at));
}

bool InList(const std::vector<WorkflowStep>& steps, const Segments& path, size_t i);

// Whether path[i..] names a step inside `step` (the durable names of executor.h).
bool InStep(const WorkflowStep& step, const Segments& path, size_t i) {
  if (i + 1 >= path.size()) return false;  // each inner segment is followed by a step's
  const std::string& segment = path[i];
  if (segment == "catch") {
    return std::any_of(step.catches.begin(), step.catches.end(),
                       [&](const project::Catch& c) { return InList(c.steps, path, i + 1); });
  }
  if (step.kind == "choice" && segment == "otherwise") return InList(step.otherwise, path, i + 1);
  if (!IsIndex(segment)) return false;
  size_t n = std::stoul(segment);
  if (step.kind == "map") return InList(step.steps, path, i + 1);
  if (step.kind == "parallel") {
    return n < step.branches.size() && InList(step.branches[n], path, i + 1);
  }
  if (step.kind == "choice")
    return n < step.choices.size() && InList(step.choices[n].steps, path, i + 1);
  return false;
}

bool InList(const std::vector<WorkflowStep>& steps, const Segments& path, size_t i) {
  const WorkflowStep* step = StepNamed(steps, path[i]);
  return step && (i + 1 == path.size() || InStep(*step, path, i + 1));
}

// Whether the durable step path `path` names a step of `workflow`.
bool HasStep(const project::Workflow& workflow, const std::string& path) {
  Segments segments = Split(path, '/');
  if (InList(workflow.steps, segments, 0)) return true;
  if (segments.size() < 2) return false;
  if (segments[0] == "on_success") return InList(workflow.on_success, segments, 1);
  if (segments[0] == "on_failure") return InList(workflow.on_failure, segments, 1);
  return false;
}

}  // namespace

std::string ToString(RetryDefinitions definitions) {
  return definitions == RetryDefinitions::kLatest ? "latest" : "recorded";
}

std::string RetryPlan::Describe() const {
  std::string what;
  if (definitions == RetryDefinitions::kLatest) {
    what =
        fmt::format("the project's current definitions (snapshot {}){}", Short(snapshot),
                    run.snapshot.empty() ? "; the run recorded none"
                    : run.snapshot == snapshot
                        ? ", the ones it ran too"
                        : fmt::format(", not the ones it ran (snapshot {})", Short(run.snapshot)));
  } else if (snapshot.empty()) {
    what =
        "its workflow as queued and the project's current jobs, models and sources (the run "
        "recorded no snapshot of them)";
  } else {
    what = fmt::format("the definitions it ran (snapshot {}){}", Short(snapshot),
                       snapshot == current ? ", the project's current ones too"
                                           : fmt::format(", not the project's current ones "
                                                         "(snapshot {}): --latest runs those",
                                                         Short(current)));
  }
  return fmt::format("retrying run {} (workflow {}) from its failed steps with {}", run.id,
                     run.name, what);
}

RetryPlan PlanRetry(const transform::Workspace& current, const meta::Run& run,
                    RetryDefinitions definitions) {
  if (run.kind != "workflow") {
    FailWithCode(ErrorKind::kUsage, "usage.not_workflow_run",
                 "run {} is a {} run; only workflow runs are retried from a step: rerun it with "
                 "`sluice run {}`",
                 run.id, run.kind, run.name);
  }
  if (run.parent_run_id) {
    FailWithCode(ErrorKind::kUsage, "usage.not_workflow_run",
                 "run {} is a child run of run {}; only top-level workflow runs are retried",
                 run.id, run.parent_run_id);
  }
  std::string now = current.snapshot ? current.snapshot->Hash() : "";
  if (definitions == RetryDefinitions::kRecorded) {
    return {run,          definitions,    run.snapshot.empty() ? current : current.At(run.snapshot),
            run.snapshot, run.definition, now};
  }
  auto it = current.workflows.find(run.name);
  if (it == current.workflows.end()) {
    FailWithCode(ErrorKind::kUsage, "usage.retry_latest_workflow_gone",
                 "workflow {} is no longer in the project, so run {} has no current definition "
                 "to run\n  hint: `sluice retry {}` without --latest runs the definitions it ran",
                 run.name, run.id, run.id);
  }
  project::Workflow workflow = Expand(current.project, it->second);
  std::vector<std::string> gone;
  for (const auto& step : current.metastore->Steps(run.id)) {
    if (step.status == meta::StepStatus::kSucceeded || step.status == meta::StepStatus::kCaught) {
      continue;
    }
    if (!HasStep(workflow, step.path)) gone.push_back(step.path);
  }
  if (!gone.empty()) {
    FailWithCode(ErrorKind::kUsage, "usage.retry_latest_step_gone",
                 "run {} failed at step {}, which workflow {} no longer has ({}): --latest runs "
                 "the failed steps again and cannot run one that is gone\n  hint: `sluice retry "
                 "{}` without --latest runs the definitions it ran; `sluice run {}` starts anew",
                 run.id, Join(gone, ", "), run.name, it->second.file, run.id, run.name);
  }
  return {run, definitions, current, now, it->second.text, now};
}

void Redrive(meta::Metastore& metastore, const RetryPlan& plan) {
  const meta::Run& run = plan.run;
  std::optional<meta::RunDefinitions> latest;
  if (plan.definitions == RetryDefinitions::kLatest) {
    latest = meta::RunDefinitions{plan.workflow, transform::RecordSnapshot(plan.workspace)};
  }
  if (!metastore.RedriveRun(run.id, latest)) {
    if (run.status == meta::RunStatus::kFailed || run.status == meta::RunStatus::kCancelled) {
      // It was retryable when read: another retry (or process) moved it first.
      auto now = metastore.GetRun(run.id);
      FailWithCode(ErrorKind::kConflict, "run.conflict",
                   "run {} is {} now: another retry took it first (it was {})", run.id,
                   now ? meta::ToString(now->status) : "gone", meta::ToString(run.status));
    }
    FailWithCode(ErrorKind::kUsage, "usage.not_retryable",
                 "run {} is {}; only failed or cancelled runs can be retried", run.id,
                 meta::ToString(run.status));
  }
  metastore.AppendLog(run.id, "info", "", plan.Describe());
}

}  // namespace sluice::orchestrator
