// Commands for workflows and the server: run WORKFLOW, serve, token, logs, cancel, retry.
#include <fmt/format.h>
#include <signal.h>

#include <iostream>
#include <mutex>
#include <thread>

#include "api/runs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/exit_code.h"
#include "common/interrupt.h"
#include "common/process.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "notify/notify.h"
#include "orchestrator/executor.h"
#include "orchestrator/retry.h"
#include "orchestrator/service.h"
#include "orchestrator/workflow_resolve.h"
#include "server/http.h"
#include "server/tokens.h"

namespace sluice::cli {

using nlohmann::json;

namespace {

std::string LogText(const meta::LogLine& l) {
  return fmt::format("{} {:<5} {}{}", Rfc3339(l.time_ms), l.level,
                     l.step.empty() ? "" : "[" + l.step + "] ", Redact(l.message));
}

// The exit code of a finished workflow run: 0, 3 for quality, 2 for config, 130 when
// interrupted, else 1.
int ExitCodeOf(const meta::Run& run) {
  if (run.status == meta::RunStatus::kSucceeded) return 0;
  if (run.status == meta::RunStatus::kCancelled) return Interrupted() ? 130 : 1;
  json details = json::parse(run.details.empty() ? "{}" : run.details, nullptr, false);
  std::string kind = details.is_object() ? details.value("error_kind", "") : "";
  if (kind == "quality") return 3;
  if (kind == "config") return 2;
  return 1;
}

}  // namespace

meta::RunStatus ExecuteHere(std::shared_ptr<transform::Workspace> ws, int64_t id,
                            std::map<std::string, project::Channel> channels,
                            const std::function<void(const meta::LogLine&)>& on_log) {
  notify::Notifier notifier(std::move(channels));
  notifier.on_delivery = [&](const notify::Delivery& d) {
    if (!d.ok) {
      std::cerr << fmt::format("notification {} to {} failed: {}\n", d.event_type, d.channel,
                               d.error);
    }
  };
  auto runner = orchestrator::MakeProjectRunner(&notifier);
  orchestrator::Watchdog watchdog;
  orchestrator::ExecutorOptions options;
  options.runner = runner.get();
  options.watchdog = &watchdog;
  options.notifier = &notifier;
  options.on_log = on_log;
  auto& m = *ws->metastore;
  std::atomic<bool> done{false};
  std::thread ctrl_c([&] {
    while (!done) {
      if (Interrupted()) {
        m.RequestCancel(id);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  meta::RunStatus status;
  try {
    status = orchestrator::Execute(ws, id, options);
  } catch (...) {
    done = true;
    ctrl_c.join();
    throw;
  }
  done = true;
  ctrl_c.join();
  notifier.Flush(10'000);
  return status;
}

namespace {

// Executes a claimed run here, printing its log as it goes; Ctrl-C cancels it. Returns the exit
// code: with `detailed_exitcode`, kExitChanges for a succeeded run that kept something out.
// `answer` holds fields for the JSON answer besides the run's.
int Foreground(transform::Workspace ws, int64_t id,
               std::map<std::string, project::Channel> channels, const std::string& format,
               bool detailed_exitcode, const json& answer = json::object()) {
  auto shared = std::make_shared<transform::Workspace>(std::move(ws));
  auto& m = *shared->metastore;
  std::function<void(const meta::LogLine&)> on_log;
  if (format != "json") on_log = [](const meta::LogLine& l) { std::cerr << LogText(l) << "\n"; };
  ExecuteHere(shared, id, std::move(channels), on_log);
  auto run = m.GetRun(id);
  if (format == "json") {
    json out = *api::RunDetailJson(m, id);
    out.update(answer);
    PrintJson(out);
  } else {
    std::cout << fmt::format("run {}: workflow {} {}", id, run->name, meta::ToString(run->status));
    if (run->ended_ms) std::cout << " in " << Duration(run->ended_ms - run->started_ms);
    std::cout << "\n";
    PrintWorkflowSteps(m, id);
    if (!run->error.empty()) std::cout << "error: " << Redact(run->error) << "\n";
    if (run->status != meta::RunStatus::kSucceeded)
      std::cout << fmt::format("see: sluice logs {}\n", id);
  }
  int code = ExitCodeOf(*run);
  return code ? code : DoneExitCode(detailed_exitcode, orchestrator::KeptOut(m, id));
}

}  // namespace

bool IsWorkflow(const Global& g, const std::string& name) {
  std::error_code ec;
  fs::path root = Root(g);
  return fs::exists(root / "workflows", ec) && [&] {
    project::Diagnostics ignored;
    return project::LoadWorkflows(root, ignored).count(name) > 0;
  }();
}

void PrintWorkflowSteps(meta::Metastore& m, int64_t run_id) {
  auto steps = m.Steps(run_id);
  if (steps.empty()) return;
  std::cout << "\n";
  TextTable t{{"step", "kind", "status", "attempts", "duration", "figures"},
              {false, false, false, true, true, false},
              {}};
  for (const auto& s : steps) {
    json out = json::parse(s.output.empty() ? "{}" : s.output, nullptr, false);
    std::vector<std::string> figures;
    if (out.is_object()) {
      for (const char* key : {"rows_in", "rows_out", "rows_quarantined", "requests", "rows",
                              "files", "items", "branches", "child_run_id", "exit_code"}) {
        if (out.contains(key) && out[key].is_number()) {
          figures.push_back(fmt::format("{} {}", key, out[key].get<int64_t>()));
        }
      }
      if (out.contains("chosen")) {
        figures.push_back("chose " + (out["chosen"].is_string() ? out["chosen"].get<std::string>()
                                                                : out["chosen"].dump()));
      }
    }
    std::string figure_text = Join(figures, ", ");
    if (!s.error.empty()) {
      std::string error = Split(Redact(s.error), '\n').front();
      if (error.size() > 70) error = error.substr(0, 67) + "...";
      figure_text = s.error_kind + ": " + error;
    }
    t.rows.push_back({s.path, s.kind, meta::ToString(s.status), std::to_string(s.attempts),
                      s.ended_ms ? Duration(s.ended_ms - s.started_ms) : "", figure_text});
  }
  t.Print();
}

int RunWorkflow(const Global& g, const std::string& name, const std::vector<std::string>& params,
                const std::string& format, bool detailed_exitcode) {
  auto ws = Open(g);
  auto it = ws.workflows.find(name);
  if (it == ws.workflows.end())
    FailWithCode(ErrorKind::kUsage, "usage.unknown_workflow", "no workflow '{}'", name);
  json p = json::object();
  for (const auto& kv : params) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      FailWithCode(ErrorKind::kUsage, "usage.bad_param", "--param '{}' must be NAME=VALUE", kv);
    }
    p[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto channels = notify::Channels(ws.project);  // an unset secret stops it before it is queued
  auto& m = *ws.metastore;
  int64_t id = orchestrator::Enqueue(m, it->second, "manual", p, 0, transform::RecordSnapshot(ws));
  if (!m.ClaimRun(id, ProcessOwner()))
    FailWithCode(ErrorKind::kConflict, "run.claimed", "run {} was taken", id);
  return Foreground(std::move(ws), id, std::move(channels), format, detailed_exitcode);
}

int Retry(const Global& g, int64_t id, bool latest, const std::string& format) {
  auto ws = Open(g);
  auto& m = *ws.metastore;
  auto run = m.GetRun(id);
  if (!run)
    FailWithCode(ErrorKind::kUsage, "usage.unknown_run", "no run {}; `sluice runs` lists them", id);
  using meta::RunStatus;
  bool stopped = (run->status == RunStatus::kRunning || run->status == RunStatus::kQueued) &&
                 !OwnerAlive(run->owner);
  if (stopped && latest) {
    FailWithCode(ErrorKind::kUsage, "usage.not_retryable",
                 "run {} was left {} by a process that stopped: `sluice retry {}` resumes it on "
                 "the definitions it ran; --latest is for failed or cancelled runs",
                 id, meta::ToString(run->status), id);
  }
  auto plan = orchestrator::PlanRetry(
      ws, *run,
      latest ? orchestrator::RetryDefinitions::kLatest : orchestrator::RetryDefinitions::kRecorded);
  // An unset secret stops it before it is queued.
  auto channels = notify::Channels(plan.workspace.project);
  if (stopped) {
    // Its process died (or it never started): resume it here.
    if (run->status == RunStatus::kRunning) m.RequeueRun(id);
    m.AppendLog(id, "info", "", "resumed by `sluice retry` after the process running it stopped");
  } else {
    orchestrator::Redrive(m, plan);
  }
  if (format != "json") std::cout << plan.Describe() << "\n";
  if (!m.ClaimRun(id, ProcessOwner())) {
    std::cout << fmt::format("run {} was queued again and taken by a running server\n", id);
    return 0;
  }
  return Foreground(std::move(plan.workspace), id, std::move(channels), format, false,
                    {{"definitions", orchestrator::ToString(plan.definitions)}});
}

int Logs(const Global& g, int64_t id, bool follow, const std::string& format) {
  auto ws = Open(g);
  auto& m = *ws.metastore;
  if (!m.GetRun(id))
    FailWithCode(ErrorKind::kUsage, "usage.unknown_run", "no run {}; `sluice runs` lists them", id);
  int64_t after = 0;
  json all = json::array();
  while (true) {
    auto run = m.GetRun(id);
    for (const auto& l : m.Logs(id, after, 10000)) {
      after = l.id;
      if (format == "json" && !follow) {
        all.push_back(api::LogJson(l));
      } else if (format == "json") {
        std::cout << api::LogJson(l).dump() << std::endl;
      } else {
        std::cout << LogText(l) << std::endl;
      }
    }
    if (!follow || meta::IsTerminal(run->status) || Interrupted()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (format == "json" && !follow) PrintJson(all);
  return 0;
}

int Cancel(const Global& g, int64_t id, const std::string& format) {
  auto ws = Open(g);
  auto run = ws.metastore->RequestCancel(id);
  if (!run)
    FailWithCode(ErrorKind::kUsage, "usage.unknown_run", "no run {}; `sluice runs` lists them", id);
  if (format == "json") {
    PrintJson(api::RunJson(*run));
  } else if (run->status == meta::RunStatus::kCancelled) {
    std::cout << fmt::format("run {} cancelled\n", id);
  } else if (run->cancel_requested) {
    std::cout << fmt::format(
        "run {}: cancel requested; it stops at its next step boundary (running SQL is "
        "interrupted)\n",
        id);
  } else {
    std::cout << fmt::format("run {} is already {}\n", id, meta::ToString(run->status));
  }
  return 0;
}

int Serve(const Global& g, const std::string& listen, int workers, const std::string& rescan,
          const std::string& grace) {
  size_t colon = listen.rfind(':');
  int port = -1;
  try {
    if (colon != std::string::npos) port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) {
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "--listen '{}' must be HOST:PORT, e.g. 127.0.0.1:8686", listen);
  }
  std::string host = listen.substr(0, colon);
  auto rescan_ms = project::ParseDurationMs(rescan);
  auto grace_ms = project::ParseDurationMs(grace);
  if (!rescan_ms || *rescan_ms < 100) {
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "--rescan '{}' must be a duration of at least 100ms", rescan);
  }
  if (!grace_ms)
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "--grace '{}' must be a duration such as 30s", grace);
  if (workers < 1)
    FailWithCode(ErrorKind::kUsage, "usage.bad_option", "--workers must be at least 1");

  // Signals are taken by this thread alone (sigwait), so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto ws = Open(g);
  std::mutex out_mu;
  orchestrator::ServiceOptions options;
  options.workers = workers;
  options.rescan_ms = *rescan_ms;
  options.log = [&](const json& line) {
    std::lock_guard lock(out_mu);
    std::cout << line.dump() << std::endl;
  };
  orchestrator::Service service(std::move(ws), options);
  server::HttpServer http(service);
  int bound = http.Bind(host, port);
  std::thread serving([&] { http.Serve(); });
  service.Start();
  options.log({{"time", Rfc3339(NowMs())},
               {"level", "info"},
               {"message", fmt::format("listening on http://{}:{}", host, bound)},
               {"port", bound},
               {"tokens", http.RequiresTokens() ? "required" : "not required on loopback"}});
  if (http.RequiresTokens() && service.metastore().Tokens().empty()) {
    options.log({{"time", Rfc3339(NowMs())},
                 {"level", "warn"},
                 {"message",
                  "the API needs a bearer token and none exists yet: create one with "
                  "`sluice token create NAME`"}});
  }
  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      try {
        service.Reload();
      } catch (const Error& e) {
        options.log(
            {{"time", Rfc3339(NowMs())},
             {"level", "error"},
             {"message", "reload refused; keeping the running definitions: " + Redact(e.what())}});
      }
      continue;
    }
    break;
  }
  service.Stop(*grace_ms);
  http.Stop();
  serving.join();
  return 0;
}

int TokenCreate(const Global& g, const std::string& name) {
  if (!server::IsTokenName(name)) {
    FailWithCode(ErrorKind::kUsage, "token.name",
                 "token name '{}' must be 1 to 64 letters, digits, '_', '-' or '.'", name);
  }
  auto ws = Open(g);
  std::string secret = server::NewTokenSecret();
  if (!ws.metastore->CreateToken(name, server::TokenHash(secret))) {
    FailWithCode(ErrorKind::kUsage, "token.exists",
                 "token '{}' already exists; revoke it first (`sluice token revoke {}`) or choose "
                 "another name",
                 name, name);
  }
  std::cout << secret << std::endl;
  std::cerr << fmt::format(
      "token '{}' created; copy it now, it is not shown again (only its hash is stored). "
      "Send it as `Authorization: Bearer TOKEN`.\n",
      name);
  return 0;
}

int TokenList(const Global& g, const std::string& format) {
  auto ws = Open(g);
  auto tokens = ws.metastore->Tokens();
  if (format == "json") {
    json out = json::array();
    for (const auto& t : tokens) {
      out.push_back({{"name", t.name},
                     {"created_at", api::TimeJson(t.created_ms)},
                     {"last_used_at", api::TimeJson(t.last_used_ms)}});
    }
    PrintJson(out);
    return 0;
  }
  TextTable table{{"name", "created", "last used"}, {false, false, false}, {}};
  for (const auto& t : tokens) {
    table.rows.push_back(
        {t.name, Rfc3339(t.created_ms), t.last_used_ms ? Rfc3339(t.last_used_ms) : "never"});
  }
  table.Print();
  return 0;
}

int TokenRevoke(const Global& g, const std::string& name) {
  auto ws = Open(g);
  if (!ws.metastore->RevokeToken(name)) {
    FailWithCode(ErrorKind::kUsage, "token.not_found",
                 "no token '{}'; `sluice token list` shows them", name);
  }
  std::cout << fmt::format("token '{}' revoked; calls with it are refused from now on\n", name);
  return 0;
}

}  // namespace sluice::cli
