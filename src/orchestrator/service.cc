#include "orchestrator/service.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "catalog/crawler.h"
#include "catalog/extracted.h"
#include "common/error.h"
#include "common/process.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/zones.h"
#include "orchestrator/cron.h"
#include "orchestrator/workflow_resolve.h"

namespace sluice::orchestrator {

using nlohmann::json;

namespace {

const std::vector<double> kSecondsBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                             1,     5,     30,   120,  600};

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Service::Histogram::Observe(double seconds) {
  if (counts.empty()) {
    bounds = kSecondsBuckets;
    counts.assign(bounds.size(), 0);
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) ++counts[i];
  }
  sum += seconds;
  ++count;
}

Service::Service(transform::Workspace ws, ServiceOptions options)
    : ws_(std::make_shared<transform::Workspace>(std::move(ws))),
      metastore_(ws_->metastore),
      options_(std::move(options)) {
  Wire();
  exec_.watchdog = &watchdog_;
  exec_.shutdown = &shutdown_;
  exec_.draining = &stopping_;
  exec_.on_log = [this](const meta::LogLine& l) {
    Log(l.level, l.message, {{"run_id", l.run_id}, {"step", l.step}});
  };
  exec_.on_step = [this](const std::string& kind, meta::AttemptStatus status, int64_t ms,
                         const json& output) {
    std::lock_guard lock(mu_);
    step_seconds_[kind].Observe(static_cast<double>(ms) / 1000.0);
    if (status == meta::AttemptStatus::kSucceeded && (kind == "job" || kind == "model")) {
      rows_processed_ += output.value("rows_out", int64_t{0});
      rows_quarantined_ += output.value("rows_quarantined", int64_t{0});
    }
  };
}

Service::~Service() { Stop(0); }

void Service::Wire() {
  auto notifier = std::make_unique<notify::Notifier>(notify::Channels(ws_->project));
  notifier->on_delivery = [this](const notify::Delivery& d) {
    Log(d.ok ? "info" : "error",
        d.ok ? fmt::format("notification {} delivered to {}", d.event_type, d.channel)
             : fmt::format("notification {} to {} failed after {} attempt(s): {}", d.event_type,
                           d.channel, d.attempts, d.error),
        {{"channel", d.channel}, {"attempts", d.attempts}});
  };
  runners_.push_back(MakeProjectRunner(notifier.get()));
  exec_.runner = runners_.back().get();
  exec_.notifier = notifier.get();
  notifiers_.push_back(std::move(notifier));
}

void Service::Log(const std::string& level, const std::string& message, json fields) {
  if (!options_.log) return;
  json line = {{"time", Rfc3339(NowMs())}, {"level", level}, {"message", Redact(message)}};
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) line[k] = v;
  }
  options_.log(line);
}

std::shared_ptr<transform::Workspace> Service::definitions() {
  std::lock_guard lock(mu_);
  return ws_;
}

void Service::Start() {
  Recover();
  watcher_ = definitions()->store->NewWatcher();
  if (auto why = watcher_->Unavailable(); !why.empty()) {
    Log("warn", fmt::format("inotify is not available ({}); arrivals are found by rescans", why));
  }
  threads_.emplace_back([this] { WatchLoop(); });
  threads_.emplace_back([this] { SchedulerLoop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  ready_ = true;
  auto defs = definitions();
  Log("info", fmt::format("sluice serve ready: project {}, {} workflow(s), {} worker(s)",
                          defs->project.name, defs->workflows.size(), options_.workers));
}

void Service::Stop(int64_t grace_ms) {
  if (stopping_.exchange(true)) {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return;
  }
  Log("info", fmt::format("stopping: no new runs; running steps get {} ms to finish", grace_ms));
  cv_.notify_all();
  scheduler_cv_.notify_all();
  int64_t deadline = MonotonicMs() + grace_ms;
  while (MonotonicMs() < deadline) {
    {
      std::lock_guard lock(mu_);
      bool busy = false;
      for (const auto& [wf, n] : running_) busy = busy || n > 0;
      if (!busy) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  shutdown_ = true;  // interrupts what still runs; those runs are requeued
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  watcher_.reset();
  for (auto& n : notifiers_) n->Flush(5000);
  ready_ = false;
  Log("info", "stopped");
}

void Service::Reload() {
  std::shared_ptr<transform::Workspace> fresh;
  project::Diagnostics diagnostics;
  try {
    fresh = std::make_shared<transform::Workspace>(definitions()->Reload());
    ValidateWorkflows(*fresh, diagnostics);
    project::CheckChannelSecrets(fresh->project, diagnostics);  // Wire would throw
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // A bug in loading must cost the reload, not the server and its running work.
    Fail(ErrorKind::kInternal, "loading the project failed: {}", e.what());
  }
  diagnostics.ThrowIfAny();
  {
    std::lock_guard lock(mu_);
    ws_ = fresh;
    Wire();
  }
  Log("info", fmt::format("reloaded the project: {} workflow(s)", fresh->workflows.size()));
  {
    std::lock_guard lock(mu_);
    scheduler_wake_ = true;
  }
  scheduler_cv_.notify_all();
}

void Service::Recover() {
  auto& m = *metastore_;
  for (const auto& run : m.FailAbandonedRuns()) {
    Log("warn",
        fmt::format("{} run {} ({}) was left running by a stopped process; marked failed", run.kind,
                    run.id, run.name),
        {{"run_id", run.id}});
  }
  // A CLI run killed while the server runs leaves scratch files too, and maybe the files of an
  // extraction it committed but did not land.
  auto extracted = catalog::FinishExtractFiles(*definitions()->store, m);
  for (const auto& key : extracted.lost) {
    Log("error",
        fmt::format("extracted file {} was committed but its bytes are gone from the lake; "
                    "its records come again only with `sluice extract --full-refresh`",
                    key),
        {});
  }
  definitions()->store->RemoveAbandonedScratch();
  for (const auto& run :
       m.ListRuns({.statuses = {meta::RunStatus::kRunning}, .kind = "workflow", .limit = 100000})) {
    if (OwnerAlive(run.owner)) continue;
    m.RequeueRun(run.id);
    m.AppendLog(run.id, "warn", "",
                "the process running this run stopped; it resumes from its last committed step");
    Log("warn",
        fmt::format("run {} ({}) was left running by a stopped process; resuming it", run.id,
                    run.name),
        {{"run_id", run.id}});
  }
  auto queued =
      m.ListRuns({.statuses = {meta::RunStatus::kQueued}, .top_level = true, .limit = 1000000});
  std::reverse(queued.begin(), queued.end());  // oldest first
  for (const auto& run : queued) Push(run.id, run.queued_ms);
}

void Service::Push(int64_t run_id, int64_t detected_ms) {
  {
    std::lock_guard lock(mu_);
    for (const auto& [wf, waiting] : deferred_) {
      if (std::find(waiting.begin(), waiting.end(), run_id) != waiting.end()) return;
    }
    if (!queued_.insert(run_id).second) return;
    queue_.push_back(run_id);
    if (detected_ms) detected_[run_id] = detected_ms;
  }
  cv_.notify_one();
}

void Service::Wake(int64_t run_id) { Push(run_id, NowMs()); }

int64_t Service::Trigger(const std::string& workflow, const json& params,
                         const std::string& trigger) {
  auto defs = definitions();
  auto it = defs->workflows.find(workflow);
  if (it == defs->workflows.end()) {
    std::vector<std::string> names;
    for (const auto& [n, w] : defs->workflows) names.push_back(n);
    std::string near = Nearest(workflow, names);
    FailWithCode(ErrorKind::kUsage, "usage.unknown_workflow", "no workflow '{}'{}", workflow,
                 near.empty() ? "" : fmt::format("; did you mean '{}'?", near));
  }
  int64_t now = NowMs();
  int64_t id =
      Enqueue(*metastore_, it->second, trigger, params, 0, transform::RecordSnapshot(*defs));
  Push(id, now);
  return id;
}

RetryPlan Service::Retry(const meta::Run& seen, RetryDefinitions which) {
  RetryPlan plan = PlanRetry(*definitions(), seen, which);
  Redrive(*metastore_, plan);
  Push(seen.id, NowMs());
  return plan;
}

void Service::WorkerLoop() {
  while (true) {
    int64_t id = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      queued_.erase(id);
    }
    try {
      RunOne(id);
    } catch (const std::exception& e) {
      Log("error", fmt::format("run {}: {}", id, e.what()), {{"run_id", id}});
    }
  }
}

void Service::PassTurn(const std::string& workflow) {
  std::lock_guard lock(mu_);
  auto& waiting = deferred_[workflow];
  if (waiting.empty() || stopping_) return;
  int64_t next = waiting.front();
  waiting.pop_front();
  if (queued_.insert(next).second) queue_.push_front(next);
  cv_.notify_one();
}

void Service::RunOne(int64_t id) {
  auto run = metastore_->GetRun(id);
  if (!run) return;
  if (run->status !=
      meta::RunStatus::kQueued) {  // cancelled or taken meanwhile: the next in line goes
    PassTurn(run->name);
    return;
  }
  auto defs = definitions();
  int limit = 0;
  if (auto it = defs->workflows.find(run->name); it != defs->workflows.end()) {
    limit = it->second.max_concurrent_runs;
  }
  int64_t detected = 0;
  {
    std::lock_guard lock(mu_);
    if (limit > 0 && running_[run->name] >= limit) {
      deferred_[run->name].push_back(id);
      return;
    }
    ++running_[run->name];
    if (auto it = detected_.find(id); it != detected_.end()) {
      detected = it->second;
      detected_.erase(it);
    }
  }
  // The slot is given back however this ends.
  struct Release {
    Service* self;
    std::string name;
    ~Release() {
      {
        std::lock_guard lock(self->mu_);
        --self->running_[name];
      }
      self->PassTurn(name);
    }
  } release{this, run->name};
  if (!metastore_->ClaimRun(id, ProcessOwner())) return;
  if (detected) {
    std::lock_guard lock(mu_);
    trigger_latency_.Observe(static_cast<double>(NowMs() - detected) / 1000.0);
  }
  ExecutorOptions options;
  {
    std::lock_guard lock(mu_);
    options = exec_;
  }
  // A run runs the definitions it recorded (a retry what failed, not the folder as edited
  // since); one recorded before snapshots were, the current ones.
  meta::RunStatus status = meta::RunStatus::kFailed;
  try {
    auto ran = defs;
    if (!run->snapshot.empty() && (!defs->snapshot || defs->snapshot->Hash() != run->snapshot)) {
      ran = std::make_shared<transform::Workspace>(defs->At(run->snapshot));
    }
    status = Execute(ran, id, options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kConfig) throw;
    Log("error", fmt::format("run {}: {}", id, e.what()), {{"run_id", id}});
    metastore_->FailRun(*metastore_->GetRun(id), e.what());
  }
  {
    std::lock_guard lock(mu_);
    ++runs_by_status_[{run->name, meta::ToString(status)}];
  }
  auto final = metastore_->GetRun(id);
  if (final && status != meta::RunStatus::kQueued) AfterRun(*final);
}

void Service::AfterRun(const meta::Run& run) {
  if (run.parent_run_id) return;
  auto defs = definitions();
  for (const auto& [name, wf] : defs->workflows) {
    for (const auto& t : wf.triggers) {
      if (t.kind != "after" || t.target != run.name) continue;
      bool fire = t.on == "any" ||
                  (t.on == "success" && run.status == meta::RunStatus::kSucceeded) ||
                  (t.on == "failure" && run.status == meta::RunStatus::kFailed);
      if (!fire) continue;
      int64_t id = Enqueue(*metastore_, wf, fmt::format("after {} run {}", run.name, run.id),
                           json{{"upstream_run_id", std::to_string(run.id)}}, 0,
                           transform::RecordSnapshot(*defs));
      Log("info",
          fmt::format("workflow {} queued (run {}) after {} run {} {}", name, id, run.name, run.id,
                      meta::ToString(run.status)),
          {{"run_id", id}});
      Push(id, NowMs());
    }
  }
}

// -- arrivals -----------------------------------------------------------------------------------

void Service::OnArrival(const std::string& source, const std::vector<std::string>& keys,
                        int64_t detected_ms, const std::string& only) {
  auto defs = definitions();
  for (const auto& [name, wf] : defs->workflows) {
    if (!only.empty() && name != only) continue;
    for (const auto& t : wf.triggers) {
      if (t.kind != "on_arrival" || t.target != source) continue;
      if (t.batch_window_ms > 0) {
        std::lock_guard lock(mu_);
        auto& b = batches_[name];
        if (b.keys.empty()) {
          b.due_ms = NowMs() + t.batch_window_ms;
          b.detected_ms = detected_ms;
        }
        b.keys.insert(keys.begin(), keys.end());
        scheduler_wake_ = true;
        scheduler_cv_.notify_all();
        continue;
      }
      // Each workflow on its own: one failing does not keep the files from the others.
      try {
        EnqueueFiles(wf, keys, "arrival " + source, detected_ms);
      } catch (const std::exception& e) {
        Log("error", fmt::format("workflow {}: cannot queue arrivals: {}", name, e.what()));
      }
    }
  }
}

void Service::EnqueueFiles(const project::Workflow& wf, const std::vector<std::string>& keys,
                           const std::string& trigger, int64_t detected_ms) {
  meta::Run run;
  run.kind = "workflow";
  run.name = wf.name;
  run.trigger = trigger;
  run.definition = wf.text;
  run.snapshot = transform::RecordSnapshot(*definitions());
  size_t fresh_count = 0;
  int64_t id =
      metastore_->EnqueueArrivals(wf.name, keys, run, [&](const std::vector<std::string>& fresh) {
        fresh_count = fresh.size();
        return json{{"files", fresh}}.dump();
      });
  if (!id) return;
  {
    std::lock_guard lock(mu_);
    files_arrived_ += fresh_count;
  }
  Push(id, detected_ms);
}

void Service::Rescan(bool startup) {
  auto defs = definitions();
  std::map<std::string, std::vector<std::string>> listeners;  // source -> workflows
  for (const auto& [name, wf] : defs->workflows) {
    for (const auto& t : wf.triggers) {
      if (t.kind == "on_arrival") listeners[t.target].push_back(name);
    }
  }
  int64_t now = NowMs();
  for (const auto& [source, workflows] : listeners) {
    std::string prefix = lake::zones::LandingPrefix(source);
    if (watcher_->Unavailable().empty()) watcher_->Watch(prefix);
    std::vector<std::string> landed;
    for (const auto& obj : lake::ListAll(*defs->store, prefix)) {
      if (!startup && now - obj.modified_ms < 2000 && watcher_->BeingWritten(obj.key)) {
        continue;  // still being copied in: its close event or the next rescan brings it
      }
      landed.push_back(obj.key);
    }
    // Every listening workflow starts work for the files it has not seen, on its own.
    for (const auto& workflow : workflows) {
      auto seen = metastore_->ArrivedKeys(workflow);
      {
        std::lock_guard lock(mu_);
        if (auto b = batches_.find(workflow); b != batches_.end()) {
          seen.insert(b->second.keys.begin(), b->second.keys.end());
        }
      }
      std::vector<std::string> fresh;
      for (const auto& key : landed) {
        if (!seen.count(key)) fresh.push_back(key);
      }
      if (fresh.empty()) continue;
      Log("info", fmt::format("rescan found {} file(s) under {} that workflow {} has not started",
                              fresh.size(), prefix, workflow));
      OnArrival(source, fresh, now, workflow);
    }
  }
}

void Service::WatchLoop() {
  int64_t next_rescan = 0;
  bool startup = true;
  while (!stopping_) {
    if (MonotonicMs() >= next_rescan) {
      try {
        Rescan(startup);
      } catch (const std::exception& e) {
        Log("error", std::string("rescan failed: ") + e.what());
      }
      startup = false;
      next_rescan = MonotonicMs() + options_.rescan_ms;
    }
    if (!watcher_->Unavailable().empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    lake::Arrivals arrivals = watcher_->Wait(100);
    int64_t detected = NowMs();
    std::map<std::string, std::vector<std::string>> by_source;
    for (auto& key : arrivals.keys) {
      if (auto source = lake::zones::SourceOfLanded(key)) by_source[*source].push_back(key);
    }
    for (auto& [source, keys] : by_source) {
      try {
        OnArrival(source, keys, detected);
      } catch (const std::exception& e) {
        Log("error", std::string("arrival failed: ") + e.what());
      }
    }
    if (arrivals.new_folders) next_rescan = 0;  // watch the new folder and catch what landed in it
  }
}

// -- schedules and batches ----------------------------------------------------------------------

namespace {
// The last fire time in (after, now], or nullopt. Looks back in growing windows so that a
// schedule firing every minute does not enumerate months of fire times.
std::optional<int64_t> LastFire(const Cron& cron, int64_t after, int64_t now) {
  constexpr int64_t kHour = 3'600'000;
  for (int64_t window : {kHour, 24 * kHour, 40 * 24 * kHour, 400 * 24 * kHour, now - after}) {
    int64_t from = std::max(after, now - window);
    auto fires = cron.Between(from, now, 100'000);
    if (!fires.empty() && fires.size() < 100'000) return fires.back();
    if (from == after) break;
  }
  return std::nullopt;
}
}  // namespace

DueFires ScheduleDue(const Cron& cron, std::optional<int64_t> mark, int64_t now, bool startup,
                     const std::string& catch_up) {
  if (!mark) return {{}, now};
  auto fires = cron.Between(*mark, now, 10'000);
  if (fires.empty()) return {{}, *mark};
  // One fire time due is the schedule working; more mean the server was down, suspended or
  // stalled: catch_up decides. The first pass after a start also counts as missed.
  bool missed = fires.size() > 1 || (startup && fires.back() < now - 60'000);
  if (!missed || catch_up == "all") return {fires, fires.back()};
  int64_t last = LastFire(cron, *mark, now).value_or(fires.back());
  if (catch_up == "latest") return {{last}, last};
  return {{}, last};
}

void Service::FireSchedules(bool startup) {
  auto defs = definitions();
  int64_t now = NowMs();
  for (const auto& [name, wf] : defs->workflows) {
    for (const auto& t : wf.triggers) {
      if (t.kind != "schedule") continue;
      std::string key = t.target + " " + t.timezone;
      auto cron = Cron::Parse(t.target, t.timezone);
      auto mark = metastore_->ScheduleMark(name, key);
      DueFires due = ScheduleDue(cron, mark, now, startup, t.catch_up);
      if (due.mark == mark.value_or(-1)) continue;
      std::vector<meta::Run> runs;
      const std::string snapshot = due.run.empty() ? "" : transform::RecordSnapshot(*defs);
      for (int64_t fire : due.run) {
        runs.push_back(QueuedRun(wf, "schedule " + t.target, json{{"scheduled_at", Rfc3339(fire)}},
                                 0, snapshot));
      }
      // The runs and the mark in one compare-and-set: nullopt when another server moved the
      // mark first (it fired those times), so each fire time runs once across the fleet.
      auto ids = metastore_->FireSchedule(name, key, mark, due.mark, runs);
      for (size_t i = 0; ids && i < ids->size(); ++i) Push((*ids)[i], due.run[i]);
    }
  }
}

void Service::SchedulerLoop() {
  bool startup = true;
  int64_t next_recover = MonotonicMs() + 5000;
  while (!stopping_) {
    if (MonotonicMs() >= next_recover) {
      // Runs left by processes that died while this server runs (a killed `sluice run`), and
      // runs queued by others (`sluice retry` with the server up).
      try {
        Recover();
      } catch (const std::exception& e) {
        Log("error", std::string("recovery scan failed: ") + e.what());
      }
      next_recover = MonotonicMs() + 5000;
    }
    try {
      FireSchedules(startup);
    } catch (const std::exception& e) {
      Log("error", std::string("schedules: ") + e.what());
    }
    startup = false;
    std::vector<std::pair<std::string, Batch>> due;
    int64_t wait = 1000 - NowMs() % 1000;  // at the next whole second (cron has minutes)
    {
      std::lock_guard lock(mu_);
      int64_t now = NowMs();
      for (auto it = batches_.begin(); it != batches_.end();) {
        if (it->second.due_ms <= now) {
          due.emplace_back(it->first, std::move(it->second));
          it = batches_.erase(it);
        } else {
          wait = std::min(wait, it->second.due_ms - now);
          ++it;
        }
      }
    }
    auto defs = definitions();
    for (auto& [name, batch] : due) {
      auto it = defs->workflows.find(name);
      if (it == defs->workflows.end()) continue;
      try {
        EnqueueFiles(it->second, {batch.keys.begin(), batch.keys.end()},
                     fmt::format("arrival (batch of {})", batch.keys.size()), batch.detected_ms);
      } catch (const std::exception& e) {
        Log("error", std::string("arrival batch failed: ") + e.what());
      }
    }
    std::unique_lock lock(mu_);
    scheduler_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wait)),
                           [&] { return stopping_.load() || scheduler_wake_; });
    scheduler_wake_ = false;
  }
}

// -- metrics ------------------------------------------------------------------------------------

std::string Service::MetricsText() {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP sluice_runs_total Workflow runs ended by this server, by workflow and status.\n";
  out += "# TYPE sluice_runs_total counter\n";
  for (const auto& [k, n] : runs_by_status_) {
    out += fmt::format("sluice_runs_total{{workflow=\"{}\",status=\"{}\"}} {}\n", Escape(k.first),
                       Escape(k.second), n);
  }
  auto histogram = [&](const std::string& name, const std::string& help, const Histogram& h,
                       const std::string& labels) {
    std::string sep = labels.empty() ? "" : ",";
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, h.bounds[i],
                         h.counts[i]);
    }
    out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.count);
    std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, h.sum, name, braces, h.count);
    (void)help;
  };
  out += "# HELP sluice_step_duration_seconds Step attempts by kind.\n";
  out += "# TYPE sluice_step_duration_seconds histogram\n";
  for (const auto& [kind, h] : step_seconds_) {
    histogram("sluice_step_duration_seconds", "", h, fmt::format("kind=\"{}\"", kind));
  }
  out += "# HELP sluice_trigger_latency_seconds From a trigger firing to its run starting.\n";
  out += "# TYPE sluice_trigger_latency_seconds histogram\n";
  if (trigger_latency_.count) histogram("sluice_trigger_latency_seconds", "", trigger_latency_, "");
  size_t depth = queue_.size();
  for (const auto& [wf, q] : deferred_) depth += q.size();
  size_t waiting = 0;
  for (const auto& [wf, b] : batches_) waiting += b.keys.size();
  int running = 0;
  for (const auto& [wf, n] : running_) running += n;
  out += fmt::format(
      "# HELP sluice_queue_depth Runs queued, waiting for a worker.\n"
      "# TYPE sluice_queue_depth gauge\nsluice_queue_depth {}\n"
      "# HELP sluice_runs_running Runs in progress.\n"
      "# TYPE sluice_runs_running gauge\nsluice_runs_running {}\n"
      "# HELP sluice_files_waiting Landed files waiting for a batch window to close.\n"
      "# TYPE sluice_files_waiting gauge\nsluice_files_waiting {}\n"
      "# HELP sluice_files_arrived_total Landed files that started work.\n"
      "# TYPE sluice_files_arrived_total counter\nsluice_files_arrived_total {}\n"
      "# HELP sluice_rows_processed_total Rows written by job and model steps.\n"
      "# TYPE sluice_rows_processed_total counter\nsluice_rows_processed_total {}\n"
      "# HELP sluice_rows_quarantined_total Rows quarantined by job steps.\n"
      "# TYPE sluice_rows_quarantined_total counter\nsluice_rows_quarantined_total {}\n"
      "# HELP sluice_up 1 while the server is ready.\n"
      "# TYPE sluice_up gauge\nsluice_up {}\n",
      depth, running, waiting, files_arrived_, rows_processed_, rows_quarantined_, ready_ ? 1 : 0);
  return out;
}

}  // namespace sluice::orchestrator
