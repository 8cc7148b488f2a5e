#pragma once
// The always-on part of `sluice serve`: trigger watchers (file arrival through inotify plus a
// periodic rescan, cron schedules, chaining after other workflows), a durable queue of runs and
// a pool of workers that execute them, recovery of what a killed process left behind, a graceful
// stop, reloading definitions, and the figures /metrics reports.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lake/watcher.h"
#include "notify/notify.h"
#include "orchestrator/clock.h"
#include "orchestrator/cron.h"
#include "orchestrator/executor.h"
#include "orchestrator/retry.h"
#include "transform/workspace.h"

namespace sluice::orchestrator {

// What a schedule trigger runs now: its fire times in (mark, now]. At the server's start, fire
// times that passed while it was down follow `catch_up`: none skips them, latest runs the last
// one, all runs every one (at most 10,000). A schedule never seen before starts from now.
struct DueFires {
  std::vector<int64_t> run;  // fire times to start runs for
  int64_t mark = 0;          // the new mark: the last fire time handled
};
DueFires ScheduleDue(const Cron& cron, std::optional<int64_t> mark, int64_t now, bool startup,
                     const std::string& catch_up);

struct ServiceOptions {
  int workers = 4;
  int64_t rescan_ms = 10'000;  // the safety-net listing of landing folders
  // Each event of the server's log (JSON object with time, level, message, ...).
  std::function<void(const nlohmann::json&)> log;
};

class Service {
 public:
  Service(transform::Workspace ws, ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Recovers runs of dead processes, queues what waits, starts watchers, scheduler, workers.
  void Start();
  // Stops claiming runs; lets running steps finish for up to `grace_ms`, then interrupts them
  // (their runs go back to the queue for the next start). Idempotent.
  void Stop(int64_t grace_ms);
  // Loads the project again; runs in flight finish on the definitions they started with.
  // Throws sluice::Error (keeping the old definitions) when anything fails to load: kConfig
  // when the project is invalid, kInternal for any other failure of loading.
  void Reload();

  bool ready() const { return ready_; }
  std::shared_ptr<transform::Workspace> definitions();
  meta::Metastore& metastore() { return *metastore_; }

  // Queues a run by hand (API); returns its id.
  int64_t Trigger(const std::string& workflow, const nlohmann::json& params,
                  const std::string& trigger);
  // Puts `seen`, a failed or cancelled run as the caller read it, back in the queue to run again
  // from its failed steps on the definitions `which` names (the current ones being the server's, as
  // loaded at its start or last reload), and answers what it runs. Throws as PlanRetry and Redrive
  // (orchestrator/retry.h): usage errors, or Error(kConflict, "run.conflict") when the run moved
  // since it was read (another retry took it first).
  RetryPlan Retry(const meta::Run& seen, RetryDefinitions which);
  // Wakes a worker for a run queued by someone else (e.g. `sluice cancel` needs nothing).
  void Wake(int64_t run_id);

  // Prometheus text exposition of the server's figures.
  std::string MetricsText();

 private:
  struct Histogram {
    std::vector<double> bounds;  // seconds
    std::vector<uint64_t> counts;
    double sum = 0;
    uint64_t count = 0;
    void Observe(double seconds);
  };

  void Log(const std::string& level, const std::string& message, nlohmann::json fields = {});
  void Recover();
  void Push(int64_t run_id, int64_t detected_ms = 0);
  void WorkerLoop();
  void RunOne(int64_t run_id);
  // The next run of `workflow` deferred by max_concurrent_runs goes back to the queue.
  void PassTurn(const std::string& workflow);
  void AfterRun(const meta::Run& run);
  void WatchLoop();
  void SchedulerLoop();
  // Files landed under a source: queued for each listening workflow (or only `only`).
  void OnArrival(const std::string& source, const std::vector<std::string>& keys,
                 int64_t detected_ms, const std::string& only = "");
  void EnqueueFiles(const project::Workflow& wf, const std::vector<std::string>& keys,
                    const std::string& trigger, int64_t detected_ms);
  void Rescan(bool startup);
  void FireSchedules(bool startup);

  std::shared_ptr<transform::Workspace> ws_;
  std::shared_ptr<meta::Metastore> metastore_;
  ServiceOptions options_;
  // The channels of each loaded definition (a reload adds one; runs in flight keep theirs).
  std::vector<std::unique_ptr<notify::Notifier>> notifiers_;
  std::vector<std::unique_ptr<StepRunner>> runners_;
  void Wire();  // a notifier and a runner for the current definitions (mu_ held or no threads)
  Watchdog watchdog_;
  ExecutorOptions exec_;  // guarded by mu_; each run takes a copy
  std::atomic<bool> ready_{false}, stopping_{false}, shutdown_{false};

  std::mutex mu_;  // the queue, definitions, batches, metrics
  std::condition_variable cv_;
  std::deque<int64_t> queue_;
  std::set<int64_t> queued_;
  std::map<std::string, std::deque<int64_t>> deferred_;  // over max_concurrent_runs
  std::map<std::string, int> running_;                   // workflow -> runs in progress
  std::map<int64_t, int64_t> detected_;                  // run -> when its trigger fired
  struct Batch {
    std::set<std::string> keys;
    int64_t due_ms = 0, detected_ms = 0;
  };
  std::map<std::string, Batch> batches_;  // workflow -> files waiting for the batch window

  // Metrics.
  std::map<std::pair<std::string, std::string>, uint64_t> runs_by_status_;
  std::map<std::string, Histogram> step_seconds_;
  Histogram trigger_latency_;
  uint64_t rows_processed_ = 0, rows_quarantined_ = 0, files_arrived_ = 0;

  // Arrivals in the lake; set by Start, used by the watch loop (and Rescan, which it calls).
  std::unique_ptr<lake::Watcher> watcher_;
  std::vector<std::thread> threads_;
  std::condition_variable scheduler_cv_;
  bool scheduler_wake_ = false;  // a batch or the definitions changed (guarded by mu_)
};

}  // namespace sluice::orchestrator
