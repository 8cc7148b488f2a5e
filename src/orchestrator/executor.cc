#include "orchestrator/executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/status.h"
#include "orchestrator/expression.h"
#include "orchestrator/workflow_resolve.h"

namespace sluice::orchestrator {

using meta::AttemptStatus;
using meta::RunStatus;
using meta::StepStatus;

using nlohmann::json;

std::string Substitute(const std::string& text, const json& scope) {
  static const std::regex re(R"(\$\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\})");
  std::string out;
  size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out += text.substr(last, it->position() - last);
    const json* at = &scope;
    for (const auto& part : Split((*it)[1].str(), '.')) {
      at = at->is_object() && at->contains(part) ? &(*at)[part] : nullptr;
      if (!at) break;
    }
    if (at && at->is_string()) {
      out += at->get<std::string>();
    } else if (at && !at->is_null()) {
      out += at->dump();
    }
    last = it->position() + it->length();
  }
  return out + text.substr(last);
}

NotifyAbout NotifyAboutOf(const json& scope) {
  const json* error = scope.contains("error") ? &scope["error"] : nullptr;
  if (!error || !error->is_object() || error->value("kind", "").empty()) {
    return NotifyAbout::kMessage;
  }
  return error->value("caught", false) ? NotifyAbout::kCaughtFailure : NotifyAbout::kRunFailure;
}

bool IsReservedParam(const std::string& name) {
  return name == "files" || name == "item" || name == "upstream_run_id" || name == "scheduled_at";
}

meta::Run QueuedRun(const project::Workflow& workflow, const std::string& trigger,
                    const json& params, int64_t parent_run_id, const std::string& snapshot) {
  // Only what the run is given is stored (redacted): defaults, which may come from
  // ${env:...}, are read from the workflow when it runs.
  json given = json::object();
  std::vector<std::string> known;
  for (const auto& [name, value] : workflow.parameters) known.push_back(name);
  for (const auto& [name, value] : params.items()) {
    if (!IsReservedParam(name) && std::find(known.begin(), known.end(), name) == known.end()) {
      std::string near = Nearest(name, known);
      FailWithCode(ErrorKind::kUsage, "usage.unknown_param", "workflow {} has no parameter '{}'{}",
                   workflow.name, name,
                   near.empty()
                       ? (known.empty() ? " (it takes none)"
                                        : fmt::format(" (parameters: {})", Join(known, ", ")))
                       : fmt::format("; did you mean '{}'?", near));
    }
    given[name] = value.is_string() ? json(Redact(value.get<std::string>())) : value;
  }
  meta::Run run;
  run.kind = "workflow";
  run.name = workflow.name;
  run.trigger = trigger;
  run.params = given.dump();
  run.definition = workflow.text;
  run.parent_run_id = parent_run_id;
  run.snapshot = snapshot;
  return run;
}

int64_t Enqueue(meta::WorkQueue& metastore, const project::Workflow& workflow,
                const std::string& trigger, const json& params, int64_t parent_run_id,
                const std::string& snapshot) {
  return metastore.EnqueueRun(QueuedRun(workflow, trigger, params, parent_run_id, snapshot));
}

namespace {

struct Outcome {
  bool ok = true;
  std::string kind, error, path;  // for failures: error kind, message, failing step
  bool stopped = false;           // the server is stopping: leave the run for the next start
  bool cancelled = false;
};

// The ErrorKind of a thrown sluice::Error, in the words of retry and catch rules (a usage
// error inside a workflow is a config error of the workflow).
std::string KindOf(ErrorKind kind) {
  return kind == ErrorKind::kUsage ? "config" : ErrorKindName(kind);
}

bool IsContainer(const std::string& kind) {
  return kind == "parallel" || kind == "choice" || kind == "map" || kind == "workflow";
}

class RunExecutor {
 public:
  RunExecutor(std::shared_ptr<transform::Workspace> ws, meta::Run run, project::Workflow workflow,
              const ExecutorOptions& options)
      : ws_(std::move(ws)),
        m_(*ws_->metastore),
        run_(std::move(run)),
        wf_(std::move(workflow)),
        o_(options),
        rng_(options.seed) {
    for (auto& s : m_.Steps(run_.id)) known_[s.path] = s;
    for (auto& a : m_.Attempts(run_.id)) {
      if (a.status == AttemptStatus::kFailed) ++failures_[a.path];
    }
  }

  RunStatus Execute() {
    // The workflow's defaults (resolved now, never stored), then what the run was given.
    json params = json::object();
    for (const auto& [k, v] : wf_.parameters) params[k] = v;
    json given = json::parse(run_.params.empty() ? "{}" : run_.params, nullptr, false);
    if (given.is_object()) {
      for (auto& [k, v] : given.items()) params[k] = v;
    }
    json scope = {{"params", params},
                  {"steps", json::object()},
                  {"run", {{"id", run_.id}, {"trigger", run_.trigger}, {"workflow", run_.name}}}};
    if (params.contains("item")) scope["item"] = params["item"];
    bool resumed = !known_.empty();
    Log("info", "",
        resumed ? fmt::format("resuming run {} of workflow {}", run_.id, run_.name)
                : fmt::format("run {} of workflow {} started (trigger: {})", run_.id, run_.name,
                              run_.trigger));
    std::thread poller([this] { Poll(); });
    int64_t ticket = 0;
    // The budget counts from when this process took the run (a resumed or retried run gets a
    // fresh one).
    if (wf_.timeout_ms > 0 && o_.watchdog) {
      ticket = o_.watchdog->Arm(NowMs() + wf_.timeout_ms, &run_timeout_);
    }
    Outcome out;
    try {
      out = RunList(wf_.steps, "", scope);
      if (ticket) o_.watchdog->Cancel(ticket);
      ticket = 0;
      if (!out.stopped && !out.cancelled) {
        // Handlers run even after a workflow timeout: that is when they matter.
        run_timeout_ = false;
        scope["error"] = {{"kind", out.kind}, {"message", out.error}, {"step", out.path}};
        const auto& handlers = out.ok ? wf_.on_success : wf_.on_failure;
        Outcome h = RunList(handlers, out.ok ? "on_success" : "on_failure", scope);
        if (h.stopped) out = h;
        if (out.ok && !h.ok) out = h;  // a failing on_success handler fails the run
      }
    } catch (const Error& e) {  // the metastore itself failed
      out = {false, KindOf(e.kind()), Redact(e.what()), ""};
    } catch (const std::exception& e) {
      out = {false, "internal", Redact(e.what()), ""};
    }
    {
      std::lock_guard lock(poll_mu_);
      finished_ = true;
    }
    poll_cv_.notify_all();
    poller.join();
    if (ticket) o_.watchdog->Cancel(ticket);
    try {
      return Finish(out);
    } catch (const std::exception&) {  // recording the end failed: the next start resumes it
      return RunStatus::kQueued;
    }
  }

 private:
  // -- plumbing ---------------------------------------------------------------------------------

  void Log(const std::string& level, const std::string& path, const std::string& message) {
    std::string text = Redact(message);
    int64_t id = m_.AppendLog(run_.id, level, path, text);
    if (o_.on_log) o_.on_log({id, run_.id, NowMs(), level, path, text});
  }

  // Watches for cancel requests and the workflow timeout; stops every running attempt.
  void Poll() {
    std::unique_lock lock(poll_mu_);
    while (!finished_) {
      poll_cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (finished_) break;
      bool shutdown = o_.shutdown && o_.shutdown->load();
      if (!cancel_ && o_.parent_stop && o_.parent_stop->load()) {
        // The parent's step was cancelled or timed out: this child run ends cancelled.
        lock.unlock();
        m_.RequestCancel(run_.id);
        lock.lock();
        cancel_ = true;
      }
      if (!cancel_ && !shutdown) {
        lock.unlock();
        auto r = m_.GetRun(run_.id);
        lock.lock();
        if (r && r->cancel_requested) cancel_ = true;
      }
      if (cancel_ || shutdown || run_timeout_) {
        std::lock_guard flags(flags_mu_);
        for (auto* f : active_) f->store(true);
        // A child run in flight stops too (it watches its own cancel flag).
        if (cancel_ || run_timeout_) {
          for (int64_t child : children_) {
            auto r = m_.GetRun(child);
            if (r && !r->cancel_requested) m_.RequestCancel(child);
          }
        }
      }
    }
  }

  bool Stopping() const { return o_.shutdown && o_.shutdown->load(); }

  // Whether the run must stop before starting more work (and how that reads).
  std::optional<Outcome> Halted(const std::string& path) {
    if (Stopping() || (o_.draining && o_.draining->load())) {
      return Outcome{false, "interrupted", "the server is stopping", path, true};
    }
    if (!cancel_) {
      auto r = m_.GetRun(run_.id);
      if (r && r->cancel_requested) cancel_ = true;
    }
    if (cancel_) return Outcome{false, "cancelled", "cancelled on request", path, false, true};
    if (run_timeout_) {
      return Outcome{
          false, "timeout",
          fmt::format("the workflow ran longer than its timeout of {} ms", wf_.timeout_ms), path};
    }
    return std::nullopt;
  }

  RunStatus Finish(const Outcome& out) {
    if (out.stopped) {
      Log("warn", "", "the server is stopping: the run will resume at its next start");
      m_.RequeueRun(run_.id);
      return RunStatus::kQueued;
    }
    auto stored = m_.GetRun(run_.id);
    meta::Run final = stored ? *stored : run_;
    final.status = out.ok          ? RunStatus::kSucceeded
                   : out.cancelled ? RunStatus::kCancelled
                                   : RunStatus::kFailed;
    // The run's figures: what its job steps read, wrote and quarantined.
    final.rows_in = final.rows_out = final.rows_quarantined = final.files_read = 0;
    for (const auto& st : m_.Steps(run_.id)) {
      if (st.kind != "job" || st.status != StepStatus::kSucceeded) continue;
      json o = json::parse(st.output, nullptr, false);
      if (!o.is_object()) continue;
      final.rows_in += o.value("rows_in", int64_t{0});
      final.rows_out += o.value("rows_out", int64_t{0});
      final.rows_quarantined += o.value("rows_quarantined", int64_t{0});
      final.files_read += o.value("files", int64_t{0});
    }
    final.ended_ms = NowMs();
    final.error = out.ok ? "" : Redact(out.path.empty() ? out.error : out.path + ": " + out.error);
    final.details = json{{"error_kind", out.ok ? "" : out.kind}, {"failed_step", out.path}}.dump();
    Log(out.ok ? "info" : "error", "",
        out.ok ? fmt::format("run {} succeeded in {} ms", run_.id, final.ended_ms - run_.started_ms)
               : fmt::format("run {} {}: {}", run_.id, ToString(final.status), final.error));
    // Steps left running or waiting for a retry end with the run.
    for (const auto& st : m_.Steps(run_.id)) {
      if (IsTerminal(st.status)) continue;
      meta::Attempt a{run_.id, st.path, st.attempts,
                      out.cancelled ? AttemptStatus::kCancelled : AttemptStatus::kFailed};
      a.error_kind = out.ok ? "" : out.kind;
      a.error = out.ok ? "" : "the run ended first";
      m_.EndAttempt(a, out.cancelled ? StepStatus::kCancelled : StepStatus::kFailed, st.output);
    }
    m_.FinishRun(final, {}, {});
    if (o_.notifier && !out.cancelled) {
      notify::Event e = out.ok ? EventOf("run_succeeded", out.path, "", "")
                               : EventOf("run_failed", out.path, out.kind, out.error);
      e.message = out.ok
                      ? fmt::format("workflow {} succeeded (run {})", run_.name, run_.id)
                      : fmt::format("workflow {} failed at step {} ({}): {}", run_.name,
                                    out.path.empty() ? "-" : out.path, out.kind, Redact(out.error));
      std::lock_guard lock(known_mu_);
      o_.notifier->Publish(e, notified_);
    }
    return final.status;
  }

  // -- steps ------------------------------------------------------------------------------------

  Outcome RunList(const std::vector<project::WorkflowStep>& steps, const std::string& prefix,
                  json& scope) {
    for (const auto& step : steps) {
      std::string path = prefix.empty() ? step.id : prefix + "/" + step.id;
      Outcome out = RunStep(step, path, scope);
      if (!out.ok) return out;
    }
    return {};
  }

  void Remember(const project::WorkflowStep& step, json output, StepStatus status, json& scope) {
    if (!output.is_object()) output = json::object();
    output["status"] = ToString(status);
    scope["steps"][step.id] = std::move(output);
  }

  Outcome RunStep(const project::WorkflowStep& step, const std::string& path, json& scope) {
    std::optional<meta::StepState> before;
    {
      std::lock_guard lock(known_mu_);
      if (auto it = known_.find(path); it != known_.end()) before = it->second;
    }
    std::optional<StepStatus> was;
    if (before) was = before->status;
    if (was == StepStatus::kCatching) {
      // Its catch handler was running when the process stopped: finish the handler.
      json output = json::parse(before->output, nullptr, false);
      size_t rule = output.is_object() ? output.value("catch_rule", size_t{0}) : 0;
      if (rule < step.catches.size()) {
        meta::Attempt failed{run_.id, path, before->attempts,   AttemptStatus::kFailed,
                             0,       0,    before->error_kind, before->error};
        return Handle(step, path, rule, failed, output, scope);
      }
    }
    if (was == StepStatus::kSucceeded || was == StepStatus::kCaught) {
      if (step.kind == "notify") Told(step, path, scope);
      Remember(step, json::parse(before->output, nullptr, false), before->status, scope);
      return {};
    }
    if (was == StepStatus::kFailed || was == StepStatus::kCancelled) {
      // Ended for good before a restart: the run ends the same way.
      return {false, before->error_kind, before->error, path, false, was == StepStatus::kCancelled};
    }
    int attempt = before ? before->attempts : 0;
    bool resume_same = false;
    if (was == StepStatus::kRunning) {
      if (IsContainer(step.kind)) {
        resume_same = true;  // its children know how far they got
      } else {
        meta::Attempt a{run_.id, path, attempt, AttemptStatus::kInterrupted};
        a.error_kind = "interrupted";
        a.error = "the process running this attempt stopped";
        m_.EndAttempt(a, StepStatus::kRunning, "{}");
        Log("warn", path, fmt::format("attempt {} was interrupted; trying again", attempt));
      }
    }
    while (true) {
      if (auto halt = Halted(path)) return *halt;
      if (!resume_same) {
        ++attempt;
        m_.BeginAttempt(run_.id, path, step.kind, attempt);
      }
      resume_same = false;
      Log("info", path,
          attempt > 1 ? fmt::format("{} started (attempt {})", Describe(step), attempt)
                      : fmt::format("{} started", Describe(step)));
      int64_t t0 = o_.clock->NowMs();
      json output = json::object();
      Outcome out = Attempt(step, path, attempt, scope, output);
      int64_t ms = o_.clock->NowMs() - t0;
      if (out.ok) {
        output["duration_ms"] = ms;
        meta::Attempt a{run_.id, path, attempt, AttemptStatus::kSucceeded};
        m_.EndAttempt(a, StepStatus::kSucceeded, output.dump());
        Log("info", path,
            fmt::format("{} succeeded in {} ms{}", Describe(step), ms, Figures(output)));
        if (o_.on_step) o_.on_step(step.kind, AttemptStatus::kSucceeded, ms, output);
        if (step.kind == "notify") Told(step, path, scope);
        Remember(step, output, StepStatus::kSucceeded, scope);
        return out;
      }
      if (o_.on_step) {
        o_.on_step(step.kind, out.stopped ? AttemptStatus::kInterrupted : AttemptStatus::kFailed,
                   ms, output);
      }
      meta::Attempt a{run_.id, path, attempt};
      a.error_kind = out.kind;
      a.error = Redact(out.error);
      if (out.stopped) {
        a.status = AttemptStatus::kInterrupted;
        m_.EndAttempt(a, StepStatus::kRunning, output.dump());
        return out;
      }
      if (out.cancelled) {
        a.status = AttemptStatus::kCancelled;
        m_.EndAttempt(a, StepStatus::kCancelled, output.dump());
        Log("warn", path, fmt::format("{} cancelled", Describe(step)));
        return out;
      }
      a.status = AttemptStatus::kFailed;
      int failures = 0;
      {
        std::lock_guard lock(known_mu_);
        failures = ++failures_[path];
      }
      if (out.path.empty() || out.path == path) out.path = path;
      if (ShouldRetry(step.retry, failures, out.kind)) {
        int64_t delay = 0;
        {
          std::lock_guard lock(known_mu_);
          delay = RetryDelayMs(step.retry, failures, rng_);
        }
        m_.EndAttempt(a, StepStatus::kRetrying, output.dump());
        Log("warn", path,
            fmt::format("{} failed ({}): {}; retrying in {} ms (attempt {} of {})", Describe(step),
                        out.kind, a.error, delay, attempt + 1, step.retry.attempts));
        PublishRetry(step, path, out, attempt);
        std::atomic<bool> woken{false};
        RegisterStop(&woken);
        o_.clock->SleepUntil(o_.clock->NowMs() + delay, woken);
        UnregisterStop(&woken);
        continue;
      }
      for (size_t i = 0; i < step.catches.size(); ++i) {
        if (!KindMatches(step.catches[i].errors, out.kind)) continue;
        output["catch_rule"] = i;
        m_.EndAttempt(a, StepStatus::kCatching, output.dump());
        Log("warn", path,
            fmt::format("{} failed ({}): {}; handled by its catch rule", Describe(step), out.kind,
                        a.error));
        return Handle(step, path, i, a, output, scope);
      }
      m_.EndAttempt(a, StepStatus::kFailed, output.dump());
      Log("error", path, fmt::format("{} failed ({}): {}", Describe(step), out.kind, a.error));
      Remember(step, output, StepStatus::kFailed, scope);
      return out;
    }
  }

  // Runs catch rule `rule` of a failed step; the step ends caught when the handler succeeds
  // (until then it is `catching`, so a restart finishes the handler). The handler's steps see
  // the failure as `error` (with `caught`); the steps after it see the `error` of before.
  Outcome Handle(const project::WorkflowStep& step, const std::string& path, size_t rule,
                 const meta::Attempt& failed, const json& output, json& scope) {
    json outer = scope.contains("error") ? scope["error"] : json();
    scope["error"] = {
        {"kind", failed.error_kind}, {"message", failed.error}, {"step", path}, {"caught", true}};
    Outcome handled = RunList(step.catches[rule].steps, path + "/catch", scope);
    if (outer.is_null()) {
      scope.erase("error");
    } else {
      scope["error"] = outer;
    }
    if (handled.stopped) return handled;
    StepStatus ended = handled.ok ? StepStatus::kCaught : StepStatus::kFailed;
    m_.EndAttempt(failed, ended, output.dump());
    Remember(step, output, ended, scope);
    if (handled.ok) PublishCaught(step, path, failed);
    return handled;
  }

  // An event of this run about step `path` (the run itself when empty).
  notify::Event EventOf(std::string type, const std::string& path, const std::string& error_kind,
                        const std::string& error) const {
    notify::Event e;
    e.type = std::move(type);
    e.project = ws_->project.name;
    e.subject = "workflow " + run_.name;
    e.run_id = run_.id;
    e.step = path;
    e.error_kind = error_kind;
    e.error = Redact(error);
    return e;
  }

  void PublishRetry(const project::WorkflowStep& step, const std::string& path, const Outcome& out,
                    int attempt) {
    if (!o_.notifier) return;
    notify::Event e = EventOf("step_retried", path, out.kind, out.error);
    e.message = fmt::format("{} failed on attempt {} and is retried", Describe(step), attempt);
    o_.notifier->Publish(e);
  }

  // step_caught for the channels subscribed to it, but those the handler's own notify steps
  // told.
  void PublishCaught(const project::WorkflowStep& step, const std::string& path,
                     const meta::Attempt& failed) {
    if (!o_.notifier) return;
    std::set<std::string> skip;
    {
      std::lock_guard lock(known_mu_);
      for (const auto& [at, channel] : told_) {
        if (StartsWith(at, path + "/catch/")) skip.insert(channel);
      }
    }
    notify::Event e = EventOf("step_caught", path, failed.error_kind, failed.error);
    e.message = fmt::format("{} failed ({}) and its catch rule handled it: {}", Describe(step),
                            failed.error_kind, e.error);
    o_.notifier->Publish(e, skip);
  }

  // A notify step told its channel: the handler it is in (or the run's end, for run_failed in
  // on_failure) does not tell that channel again.
  void Told(const project::WorkflowStep& step, const std::string& path, const json& scope) {
    std::lock_guard lock(known_mu_);
    told_[path] = step.target;
    if (NotifyAboutOf(scope) == NotifyAbout::kRunFailure) notified_.insert(step.target);
  }

  static std::string Describe(const project::WorkflowStep& step) {
    if (step.target.empty()) return step.kind;
    return step.kind + " " + step.target;
  }

  static std::string Figures(const json& output) {
    std::vector<std::string> parts;
    bool read = output.value("rows_in", int64_t{0}) > 0;  // models do not count rows in
    for (const char* key : {"rows_in", "rows_out", "rows_quarantined", "files"}) {
      if (!read && std::string(key) != "rows_out") continue;
      if (output.contains(key) && output[key].is_number()) {
        parts.push_back(fmt::format("{} {}", output[key].get<int64_t>(), key));
      }
    }
    return parts.empty() ? "" : ": " + Join(parts, ", ");
  }

  void RegisterStop(std::atomic<bool>* flag) {
    std::lock_guard lock(flags_mu_);
    active_.insert(flag);
    if (cancel_ || Stopping() || run_timeout_) flag->store(true);
  }
  void UnregisterStop(std::atomic<bool>* flag) {
    std::lock_guard lock(flags_mu_);
    active_.erase(flag);
  }

  // One attempt of one step; fills `output` with its figures.
  Outcome Attempt(const project::WorkflowStep& step, const std::string& path, int attempt,
                  json& scope, json& output) {
    std::string child_prefix = path + (attempt > 1 ? fmt::format("@{}", attempt) : "");
    try {
      if (step.kind == "parallel") return Parallel(step, child_prefix, scope, output);
      if (step.kind == "map") return Map(step, child_prefix, scope, output);
      if (step.kind == "choice") return Choice(step, child_prefix, scope, output);
    } catch (const Error& e) {
      return {false, KindOf(e.kind()), e.what(), path};
    } catch (const std::exception& e) {
      return {false, "internal", e.what(), path};
    }
    if (step.kind == "pass") return {};
    if (step.kind == "fail") {
      return {false, step.error_kind,
              step.message.empty() ? "the workflow reached a fail step"
                                   : Substitute(step.message, scope),
              path};
    }
    std::atomic<bool> stop{false};
    RegisterStop(&stop);
    int64_t start = o_.clock->NowMs();
    int64_t deadline = step.timeout_ms > 0 ? start + step.timeout_ms : 0;
    int64_t ticket = 0;
    if (deadline && o_.watchdog && o_.clock == &SystemClock()) {
      ticket = o_.watchdog->Arm(deadline, &stop);
    }
    Outcome out;
    try {
      if (step.kind == "wait") {
        int64_t until = start + step.wait_ms;
        if (!o_.clock->SleepUntil(deadline && deadline < until ? deadline : until, stop)) {
          out = {false, "interrupted", "the wait was cut short", path};  // why: see below
        }
      } else if (step.kind == "workflow") {
        output = Child(step, path, attempt, scope, stop);
      } else {
        ScopedStop scoped(&stop);
        StepContext ctx;
        ctx.run_id = run_.id;
        ctx.path = path;
        ctx.attempt = attempt;
        ctx.scope = &scope;
        ctx.stop = &stop;
        ctx.set_child = [&](int64_t child) { m_.SetAttemptChild(run_.id, path, attempt, child); };
        ctx.log = [&](const std::string& level, const std::string& message) {
          Log(level, path, message);
        };
        output = o_.runner->Run(*ws_, step, ctx);
      }
    } catch (const Error& e) {
      out = {false, KindOf(e.kind()), e.what(), path};
    } catch (const std::exception& e) {
      out = {false, "internal", e.what(), path};
    }
    if (ticket) o_.watchdog->Cancel(ticket);
    UnregisterStop(&stop);
    // Why it stopped, when it was stopped: the server, a cancel, or a timeout.
    // A step that finished anyway keeps its success (what it published stays); only its own
    // timeout still counts.
    if (!out.ok && Stopping()) return {false, "interrupted", "the server is stopping", path, true};
    if (!out.ok && cancel_) return {false, "cancelled", "cancelled on request", path, false, true};
    if (!out.ok && run_timeout_) {
      return {false, "timeout",
              fmt::format("the workflow ran longer than its timeout of {} ms", wf_.timeout_ms),
              path};
    }
    bool overran = deadline && o_.clock->NowMs() >= deadline &&
                   (step.kind != "wait" || deadline < start + step.wait_ms);
    if (overran) {
      return {
          false, "timeout",
          fmt::format("{} ran longer than its timeout of {} ms", Describe(step), step.timeout_ms),
          path};
    }
    return out;
  }

  // Runs `count` branches with at most `limit` at once (0: all at once, capped at 64 threads);
  // returns the first failure. A failure keeps branches that have not started from starting.
  Outcome Fan(size_t count, int limit, json& scope,
              const std::function<Outcome(size_t, json&)>& branch) {
    size_t threads = limit > 0 ? static_cast<size_t>(limit) : 64;
    threads = std::max<size_t>(1, std::min(threads, count));
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    Outcome first;
    std::vector<json> scopes(count, scope);
    auto work = [&] {
      while (!failed) {
        size_t i = next++;
        if (i >= count) return;
        Outcome out;
        try {
          out = branch(i, scopes[i]);
        } catch (const Error& e) {
          out = {false, KindOf(e.kind()), e.what(), ""};
        } catch (const std::exception& e) {
          out = {false, "internal", e.what(), ""};
        }
        if (!out.ok) {
          std::lock_guard lock(mu);
          if (first.ok || (out.stopped && !first.stopped)) first = out;
          failed = true;
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (auto& s : scopes) {
      for (auto& [id, out] : s["steps"].items()) scope["steps"][id] = out;
    }
    return first;
  }

  Outcome Parallel(const project::WorkflowStep& step, const std::string& prefix, json& scope,
                   json& output) {
    Outcome out = Fan(step.branches.size(), step.max_concurrency, scope, [&](size_t i, json& s) {
      return RunList(step.branches[i], fmt::format("{}/{}", prefix, i), s);
    });
    output["branches"] = step.branches.size();
    return out;
  }

  json MapItems(const project::WorkflowStep& step, const json& scope) {
    const json& params = scope["params"];
    json files = params.contains("files") ? params["files"] : json::array();
    if (files.is_string()) files = json::array({files});  // one file given by hand
    if (!files.is_array() ||
        !std::all_of(files.begin(), files.end(), [](const json& f) { return f.is_string(); })) {
      FailWithCode(ErrorKind::kConfig, "config.map_over",
                   "params.files must be a list of file keys");
    }
    if (step.over == "files") return files;
    if (step.over == "partitions") {
      std::set<std::string> parts;
      for (const auto& f : files) {
        std::vector<std::string> kv;
        for (const auto& seg : Split(f.get<std::string>(), '/')) {
          if (seg.find('=') != std::string::npos) kv.push_back(seg);
        }
        if (!kv.empty()) parts.insert(Join(kv, "/"));
      }
      return json(std::vector<std::string>(parts.begin(), parts.end()));
    }
    std::string name = step.over.rfind("params.", 0) == 0 ? step.over.substr(7) : step.over;
    if (!params.contains(name)) {
      FailWithCode(ErrorKind::kConfig, "config.map_over",
                   "map over '{}': the run has no such parameter", step.over);
    }
    json v = params[name];
    if (v.is_string()) {  // a comma-separated list from --param
      json list = json::array();
      for (const auto& part : Split(v.get<std::string>(), ',')) list.push_back(Trim(part));
      return list;
    }
    if (!v.is_array())
      FailWithCode(ErrorKind::kConfig, "config.map_over", "map over '{}': not a list", step.over);
    return v;
  }

  Outcome Map(const project::WorkflowStep& step, const std::string& prefix, json& scope,
              json& output) {
    json items;
    try {
      items = MapItems(step, scope);
    } catch (const Error& e) {
      return {false, KindOf(e.kind()), e.what(), prefix};
    }
    output["items"] = items.size();
    return Fan(items.size(), step.max_concurrency, scope, [&](size_t i, json& s) {
      s["item"] = items[i];
      return RunList(step.steps, fmt::format("{}/{}", prefix, i), s);
    });
  }

  Outcome Choice(const project::WorkflowStep& step, const std::string& prefix, json& scope,
                 json& output) {
    for (size_t i = 0; i < step.choices.size(); ++i) {
      bool yes = false;
      try {
        yes = Expression::Parse(step.choices[i].when).Evaluate(scope);
      } catch (const Error& e) {
        return {false, "config", fmt::format("when '{}': {}", step.choices[i].when, e.what()),
                prefix};
      }
      if (!yes) continue;
      output["chosen"] = i;
      Log("info", prefix, fmt::format("choice: '{}' is true", step.choices[i].when));
      return RunList(step.choices[i].steps, fmt::format("{}/{}", prefix, i), scope);
    }
    output["chosen"] = "otherwise";
    Log("info", prefix, "choice: no rule is true; taking otherwise");
    return RunList(step.otherwise, prefix + "/otherwise", scope);
  }

  // A child workflow run, executed here; on resume the child run recorded by the attempt
  // continues.
  json Child(const project::WorkflowStep& step, const std::string& path, int attempt,
             const json& scope, std::atomic<bool>& stop) {
    auto it = ws_->workflows.find(step.target);
    if (it == ws_->workflows.end()) {
      FailWithCode(ErrorKind::kConfig, "config.unknown_target", "no workflow '{}' in the project",
                   step.target);
    }
    int64_t child = 0;
    for (const auto& a : m_.Attempts(run_.id)) {
      if (a.path == path && a.attempt == attempt && a.child_run_id) child = a.child_run_id;
    }
    if (!child) {
      // A child runs on this thread's stack, inside its parent: a workflow that runs itself
      // (refused by validate, but a queued run keeps the definition it began with) must end in
      // an error, not in a stack overflow.
      int depth = 1;
      for (int64_t up = run_.parent_run_id; up && depth <= kMaxChildDepth; ++depth) {
        auto parent = m_.GetRun(up);
        up = parent ? parent->parent_run_id : 0;
      }
      if (depth + 1 > kMaxChildDepth) {
        FailWithCode(
            ErrorKind::kConfig, "config.nesting",
            "child workflow {} would nest {} runs deep, over the limit of {}: does the workflow "
            "run itself?",
            step.target, depth + 1, kMaxChildDepth);
      }
      json params = json::object();
      for (const auto& [k, v] : step.params) params[k] = Substitute(v, scope);
      child = Enqueue(m_, it->second, fmt::format("workflow {} run {}", run_.name, run_.id), params,
                      run_.id, transform::RecordSnapshot(*ws_));
      m_.SetAttemptChild(run_.id, path, attempt, child);
    }
    auto record = m_.GetRun(child);
    if (record && record->status == RunStatus::kRunning) m_.RequeueRun(child);
    if (record &&
        (record->status == RunStatus::kFailed || record->status == RunStatus::kCancelled)) {
      // The parent was retried: its child carries on from its own failed steps, on the
      // definitions the parent runs now (its recorded ones, or a --latest retry's).
      if (m_.RedriveRun(child,
                        meta::RunDefinitions{it->second.text, transform::RecordSnapshot(*ws_)})) {
        m_.AppendLog(
            child, "info", "",
            fmt::format("resumed from its failed steps: its parent run {} was retried", run_.id));
        Log("info", path,
            fmt::format("child workflow {} (run {}) resumes from its failed steps", step.target,
                        child));
      }
    }
    record = m_.GetRun(child);
    RunStatus status = record ? record->status : RunStatus::kFailed;
    if (status == RunStatus::kQueued && m_.ClaimRun(child, run_.owner)) {
      {
        std::lock_guard lock(flags_mu_);
        children_.insert(child);
      }
      ExecutorOptions o = o_;
      o.parent_stop = &stop;
      status = orchestrator::Execute(ws_, child, o);
      std::lock_guard lock(flags_mu_);
      children_.erase(child);
    }
    if (status == RunStatus::kQueued) Fail(ErrorKind::kInterrupted, "the server is stopping");
    record = m_.GetRun(child);
    if (status != RunStatus::kSucceeded) {
      FailWithCode(ErrorKind::kInput, "input.child_workflow", "child workflow {} (run {}) {}: {}",
                   step.target, child, ToString(status), record ? record->error : "");
    }
    return {{"child_run_id", child}};
  }

  std::shared_ptr<transform::Workspace> ws_;
  meta::Metastore& m_;
  meta::Run run_;
  project::Workflow wf_;
  const ExecutorOptions& o_;
  std::mt19937_64 rng_;
  std::mutex known_mu_;
  std::map<std::string, meta::StepState> known_;
  std::map<std::string, int> failures_;  // guarded by known_mu_ (parallel branches)
  // Guarded by known_mu_: the channel each notify step that succeeded told, by the step's path,
  // and the channels told of the run's failure (on_failure).
  std::map<std::string, std::string> told_;
  std::set<std::string> notified_;
  std::atomic<bool> cancel_{false}, run_timeout_{false};
  std::mutex flags_mu_;
  std::set<std::atomic<bool>*> active_;  // stop flags of running attempts (flags_mu_)
  std::set<int64_t> children_;           // child runs in flight (flags_mu_)
  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool finished_ = false;
};

}  // namespace

meta::RunStatus Execute(std::shared_ptr<transform::Workspace> ws, int64_t run_id,
                        const ExecutorOptions& options) {
  auto& m = *ws->metastore;
  auto run = m.GetRun(run_id);
  if (!run) FailWithCode(ErrorKind::kUsage, "usage.unknown_run", "no run {}", run_id);
  project::Diagnostics diagnostics;
  auto workflow = project::ParseWorkflow(run->definition, run->name + " (as queued)", diagnostics);
  if (!workflow || !diagnostics.empty()) {
    meta::Run failed = *run;
    std::vector<std::string> lines;
    for (const auto& d : diagnostics.items()) lines.push_back(d.str());
    m.FailRun(failed, "the workflow definition cannot be read: " + Join(lines, "; "));
    return meta::RunStatus::kFailed;
  }
  std::optional<RunExecutor> executor;
  try {
    executor.emplace(ws, *run, Expand(ws->project, std::move(*workflow)), options);
  } catch (const Error& e) {
    // Its recorded steps cannot be read (a status word this release does not know): the run
    // ends failed, naming why, rather than staying running.
    m.FailRun(*run, Redact(fmt::format("the run's recorded steps cannot be read: {}", e.what())));
    return meta::RunStatus::kFailed;
  }
  return executor->Execute();
}

bool KeptOut(meta::WorkflowState& metastore, int64_t run_id) {
  for (const auto& step : metastore.Steps(run_id)) {
    json out = json::parse(step.output.empty() ? "{}" : step.output, nullptr, false);
    if (!out.is_object()) continue;
    auto count = [&](const char* key) {
      return out.contains(key) && out[key].is_number() ? out[key].get<int64_t>() : 0;
    };
    if (step.kind == "crawl" && count("quarantined") + count("held") > 0) return true;
    if ((step.kind == "job" || step.kind == "model") && count("rows_quarantined") > 0) return true;
    if (step.kind == "workflow" && count("child_run_id") > 0 &&
        KeptOut(metastore, count("child_run_id"))) {
      return true;
    }
  }
  return false;
}

}  // namespace sluice::orchestrator
