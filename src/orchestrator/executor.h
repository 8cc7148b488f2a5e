#pragma once
// Runs workflow runs, durably. Every run, step and attempt transition is written to the
// metastore before anything depends on it, so a run can be resumed by another process after a
// crash: steps that succeeded are not run again (their figures are read back), an attempt that
// was running when the process died is marked interrupted and tried again (steps are idempotent:
// jobs advance bookmarks in the same transaction as their output), and containers (parallel,
// choice, map) pick up where their children were.
//
// A step's path is its durable name: ids joined by '/', with the branch or item index for
// parallel and map ("fan/3/load"), the rule for choice ("route/0/notify_team",
// "route/otherwise/..."), "catch" for a catch handler, and "@N" after a container's id for its
// N-th attempt (a retried container runs its children afresh).
#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "meta/metastore.h"
#include "notify/notify.h"
#include "orchestrator/clock.h"
#include "project/workflow.h"
#include "transform/workspace.h"

namespace sluice::orchestrator {

// What a leaf step sees.
struct StepContext {
  int64_t run_id = 0;
  std::string path;
  int attempt = 1;
  const nlohmann::json* scope = nullptr;    // params, steps, item, run
  const std::atomic<bool>* stop = nullptr;  // set on timeout, cancel or shutdown
  std::function<void(int64_t child_run_id)> set_child;
  std::function<void(const std::string& level, const std::string& message)> log;
};

// What a notify step's message is about, read from its scope's `error`: nothing (a message),
// the failure a catch handler handles (step_caught), or the run's own failure in on_failure
// (run_failed).
enum class NotifyAbout { kMessage, kCaughtFailure, kRunFailure };
NotifyAbout NotifyAboutOf(const nlohmann::json& scope);

// Runs leaf steps: crawl, job, model, check, notify. Returns the step's figures (rows_in,
// rows_out, rows_quarantined, files, ...); throws sluice::Error on failure.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual nlohmann::json Run(transform::Workspace& ws, const project::WorkflowStep& step,
                             StepContext& ctx) = 0;
};

// The real runner, over the project's sources, jobs, models and channels.
std::unique_ptr<StepRunner> MakeProjectRunner(notify::Notifier* notifier);

struct ExecutorOptions {
  Clock* clock = &SystemClock();
  StepRunner* runner = nullptr;
  Watchdog* watchdog = nullptr;          // step and workflow timeouts of leaf steps (null: none)
  notify::Notifier* notifier = nullptr;  // run_succeeded / run_failed / step_retried events
  const std::atomic<bool>* shutdown = nullptr;  // the server is stopping: requeue the run
  // The server stopped taking work: start no new step (running ones finish), requeue the run.
  const std::atomic<bool>* draining = nullptr;
  // Set for a child run: its parent's step was cancelled or timed out.
  const std::atomic<bool>* parent_stop = nullptr;
  // Every log line as it is written (foreground progress, the server's JSON log).
  std::function<void(const meta::LogLine&)> on_log;
  // After each step attempt ends (metrics).
  std::function<void(const std::string& kind, meta::AttemptStatus status, int64_t ms,
                     const nlohmann::json& output)>
      on_step;
  uint64_t seed = std::random_device{}();
};

// How deep child workflow runs nest (a top-level run is 1): a workflow step that would start a
// run deeper fails with a config error.
inline constexpr int kMaxChildDepth = 32;

// Runs or resumes run `run_id` (already claimed: status running) until it ends. Returns its
// final status: succeeded, failed or cancelled, or queued when `shutdown` stopped it (it resumes
// at the next start).
meta::RunStatus Execute(std::shared_ptr<transform::Workspace> ws, int64_t run_id,
                        const ExecutorOptions& options);

// Whether run `run_id` kept something out: a crawl step quarantined or held files, a job or model
// step quarantined rows, here or in a child workflow run it started (`sluice run WORKFLOW
// --detailed-exitcode` exits 4).
bool KeptOut(meta::WorkflowState& metastore, int64_t run_id);

// Parameters only triggers set: the files that arrived, the map item, the upstream run, the fire
// time. The API refuses them from callers.
bool IsReservedParam(const std::string& name);

// The queued run of `workflow` with `params` over its defaults, as Enqueue stores it (for a
// store that queues it with something else in one transaction). Refuses as Enqueue does.
meta::Run QueuedRun(const project::Workflow& workflow, const std::string& trigger,
                    const nlohmann::json& params, int64_t parent_run_id,
                    const std::string& snapshot);

// Queues a run of `workflow` with `params` over its defaults; returns its id. Unknown
// parameters are refused (kUsage) with the nearest known name. `snapshot` is the hash of the
// definitions `workflow` is from (transform::RecordSnapshot): the run records it.
int64_t Enqueue(meta::WorkQueue& metastore, const project::Workflow& workflow,
                const std::string& trigger, const nlohmann::json& params, int64_t parent_run_id = 0,
                const std::string& snapshot = "");

// Replaces ${params.x}, ${item}, ${run.id} ... in `text` with values from `scope`.
std::string Substitute(const std::string& text, const nlohmann::json& scope);

}  // namespace sluice::orchestrator
