// The leaf steps of workflows over a project: crawl, job, model, check, load, notify.
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <random>

#include "api/runs.h"
#include "catalog/crawler.h"
#include "common/error.h"
#include "common/one_line.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "common/time.h"
#include "engine/engine.h"
#include "extract/extract.h"
#include "orchestrator/executor.h"
#include "project/reader.h"
#include "quality/check_specs.h"
#include "quality/rules.h"
#include "transform/checks.h"
#include "transform/run.h"
#include "warehouse/load.h"
#include "warehouse/model.h"

namespace sluice::orchestrator {

using nlohmann::json;

namespace {

// Steps that write the same table take turns within a process (across processes the metastore
// refuses the second of two commits that would advance the same bookmarks, and it is retried).
std::mutex& LockFor(const std::string& resource) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::mutex>> locks;
  std::lock_guard lock(mu);
  auto& m = locks[resource];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

class ProjectRunner : public StepRunner {
 public:
  explicit ProjectRunner(notify::Notifier* notifier) : notifier_(notifier) {}

  json Run(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) override {
    if (step.kind == "crawl") return Crawl(ws, step, ctx);
    if (step.kind == "extract") return Extract(ws, step, ctx);
    if (step.kind == "command") return Command(ws, step, ctx);
    if (step.kind == "job" || step.kind == "model") return Transform(ws, step, ctx);
    if (step.kind == "check") return Check(ws, step, ctx);
    if (step.kind == "load") return Load(ws, step, ctx);
    if (step.kind == "notify") return Notify(ws, step, ctx);
    Fail(ErrorKind::kInternal, "no runner for {} steps", step.kind);
  }

 private:
  notify::Event EventFor(transform::Workspace& ws, const StepContext& ctx, std::string type,
                         std::string message) {
    notify::Event e;
    e.type = std::move(type);
    e.project = ws.project.name;
    const json& run = (*ctx.scope)["run"];
    e.subject = "workflow " + run.value("workflow", "");
    e.run_id = ctx.run_id;
    e.step = ctx.path;
    e.message = std::move(message);
    return e;
  }

  void Publish(const notify::Event& e) {
    if (notifier_) notifier_->Publish(e);
  }

  std::string Trigger(const StepContext& ctx) {
    const json& run = (*ctx.scope)["run"];
    return fmt::format("workflow {} run {}", run.value("workflow", ""), ctx.run_id);
  }

  // quality_failed when a run stopped on a failing check (`e` of kind kQuality).
  void QualityFailed(transform::Workspace& ws, StepContext& ctx, const std::string& what,
                     const Error& e) {
    if (e.kind() != ErrorKind::kQuality) return;
    auto ev = EventFor(ws, ctx, "quality_failed", fmt::format("{}: a check failed", what));
    ev.error_kind = "quality";
    ev.error = Redact(e.what());
    Publish(ev);
  }

  // The checks a run judged by, as the step's output; quality_warned when a rule with
  // on_fail: warn did not pass.
  json ReportChecks(transform::Workspace& ws, StepContext& ctx, const std::string& what,
                    const std::vector<meta::CheckResult>& results) {
    json checks = json::array();
    std::vector<std::string> warned;
    for (const auto& c : results) {
      checks.push_back({{"rule", c.rule},
                        {"on_fail", c.on_fail},
                        {"outcome", c.outcome},
                        {"observed", c.observed},
                        {"failing_rows", quality::FailingRowsJson(c)}});
      if (c.outcome != "pass" && c.on_fail == "warn") {
        warned.push_back(c.rule);
        // In the run's log too, whichever step judged it (a job's, a model's, a source's checks).
        if (ctx.log) {
          ctx.log("warn", fmt::format("check {} on {}: {} (observed {})", c.rule, c.table,
                                      c.outcome, c.observed));
        }
      }
    }
    if (!warned.empty()) {
      auto ev = EventFor(
          ws, ctx, "quality_warned",
          fmt::format("{}: {} check(s) warned: {}", what, warned.size(), Join(warned, "; ")));
      ev.details = {{"checks", checks}};
      Publish(ev);
    }
    return checks;
  }

  // Runs the step's program. Each line it prints goes to the run's log (stderr as warnings), at
  // most kMaxLogLines of them; a stdout line {"sluice": {...}} sets figures. Figures: exit_code,
  // duration_ms, and what the program set.
  json Command(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    constexpr size_t kMaxLine = 4096;
    constexpr int64_t kMaxLogLines = 10'000;
    constexpr size_t kMaxFigures = 100;
    project::RequireSet(step.program.unset_env);
    Program program;
    for (const auto& arg : step.program.command)
      program.argv.push_back(Substitute(arg, *ctx.scope));
    program.cwd = project::ProgramFolder(ws.project.root, step.program, step.where);
    for (const auto& [k, v] : step.program.env)
      program.env.emplace_back(k, Substitute(v, *ctx.scope));
    program.env.emplace_back("SLUICE_RUN_ID", std::to_string(ctx.run_id));
    program.env.emplace_back("SLUICE_STEP", ctx.path);
    program.env.emplace_back("SLUICE_ATTEMPT", std::to_string(ctx.attempt));
    program.stop = ctx.stop;
    program.grace_ms = 5000;  // SIGTERM first: a script may clean up
    json figures = json::object();
    std::string partial[2], last_error;
    int64_t lines = 0;
    auto line = [&](bool is_stderr, std::string text) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (!is_stderr && text.rfind("{\"sluice\"", 0) == 0 && JsonDepth(text, 8) <= 8) {
        json j = json::parse(text, nullptr, false);
        if (j.is_object() && j.size() == 1 && j["sluice"].is_object()) {
          for (const auto& [k, v] : j["sluice"].items()) {
            if (IsPlainName(k) && (v.is_number() || v.is_string() || v.is_boolean()) &&
                (figures.contains(k) || figures.size() < kMaxFigures)) {
              figures[k] = v;
            }
          }
          return;
        }
      }
      if (is_stderr && !text.empty()) last_error = text;
      if (++lines <= kMaxLogLines && ctx.log) {
        // Control characters replaced (indentation kept): a program's output cannot drive a
        // terminal.
        for (char& c : text) {
          if (c == '\t') c = ' ';
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        }
        ctx.log(is_stderr ? "warn" : "info", Redact(text));
      } else if (lines == kMaxLogLines + 1 && ctx.log) {
        ctx.log("warn",
                fmt::format("more than {} lines of output: the rest is not kept", kMaxLogLines));
      }
    };
    program.on_output = [&](bool is_stderr, std::string_view data) {
      std::string& buffer = partial[is_stderr];
      for (char c : data) {
        if (c == '\n') {
          line(is_stderr, std::move(buffer));
          buffer.clear();
        } else if (buffer.size() < kMaxLine) {
          buffer += c;
        }
      }
    };
    const int64_t started = NowMs();
    ProgramResult result = RunProgram(program);
    for (bool is_stderr : {false, true}) {
      if (!partial[is_stderr].empty()) line(is_stderr, std::move(partial[is_stderr]));
    }
    const std::string name = fs::path(step.program.command.at(0)).filename().string();
    std::string said = last_error.empty() ? "" : ": " + Redact(OneLine(last_error));
    switch (result.end) {
      case ProgramEnd::kStopped:
      case ProgramEnd::kTimedOut:
        Fail(ErrorKind::kInterrupted, "command {} was stopped", name);
      case ProgramEnd::kSignaled:
        FailWithCode(ErrorKind::kIo, "command.failed", "command {} was killed by signal {}{}", name,
                     result.code, said);
      case ProgramEnd::kExited:
        break;
    }
    if (result.code != 0) {
      FailWithCode(ErrorKind::kIo, "command.failed", "command {} exited with status {}{}", name,
                   result.code, said);
    }
    figures["exit_code"] = 0;
    figures["duration_ms"] = NowMs() - started;
    return figures;
  }

  // Figures: requests, pages, rows, files, cursor (and the rest of api::ExtractJson).
  json Extract(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    std::lock_guard lock(LockFor("extract:" + step.target));
    extract::ExtractOptions options;
    options.trigger = Trigger(ctx);
    options.on_start = [&](int64_t run_id) { ctx.set_child(run_id); };
    auto report = extract::ExtractSource(ws, step.target, options);
    if (ctx.log) ctx.log("info", report.message);
    return api::ExtractJson(report);
  }

  json Crawl(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    auto it = ws.project.sources.find(step.target);
    if (it == ws.project.sources.end()) {
      FailWithCode(ErrorKind::kConfig, "config.unknown_target", "no source '{}' in the project",
                   step.target);
    }
    std::lock_guard lock(LockFor("crawl:" + step.target));
    engine::Database db;
    engine::Connection conn(db);
    std::string what = "source " + step.target;
    catalog::CrawlReport r;
    try {
      r = catalog::Crawl(it->second, transform::RecordSnapshot(ws), *ws.store, *ws.metastore, conn,
                         Trigger(ctx));
    } catch (const Error& e) {
      QualityFailed(ws, ctx, what, e);
      throw;
    }
    if (r.run_id) ctx.set_child(r.run_id);
    json out = {{"files", r.new_files},
                {"registered", r.registered},
                {"quarantined", r.quarantined.size()},
                {"held", r.held.size()},
                {"version", r.version},
                {"changed", r.changed},
                {"schema_change", r.schema_change},
                {"child_run_id", r.run_id},
                {"checks", ReportChecks(ws, ctx, what, r.checks)}};
    // A first crawl creates the table: that is not drift.
    if (!r.schema_change.empty() && r.schema_change.rfind("created", 0) != 0) {
      auto e = EventFor(ws, ctx, "schema_drift",
                        fmt::format("source {} changed schema: {}", step.target, r.schema_change));
      e.details = {{"source", step.target}, {"change", r.schema_change}};
      Publish(e);
    }
    // A held file is kept out too: the same event, its state telling the two apart.
    for (const auto* kept : {&r.quarantined, &r.held}) {
      const char* state = kept == &r.held ? "held" : "quarantined";
      for (const auto& [key, reason] : *kept) {
        auto e = EventFor(ws, ctx, "file_quarantined",
                          fmt::format("file {} was {}: {}", key, state, reason));
        e.details = {{"source", step.target}, {"file", key}, {"reason", reason}, {"state", state}};
        Publish(e);
      }
    }
    return out;
  }

  // OpenLineage run events (START, then COMPLETE or FAIL) with the datasets read and written.
  class LineageRun {
   public:
    LineageRun(notify::Notifier* notifier, const transform::Workspace& ws,
               const project::WorkflowStep& step, std::vector<std::string> inputs,
               std::string output)
        : notifier_(ws.project.lineage.url.empty() ? nullptr : notifier),
          namespace_(ws.project.lineage.namespace_name),
          job_(step.kind + "." + step.target),
          inputs_(std::move(inputs)),
          output_(std::move(output)) {
      if (!notifier_) return;
      std::mt19937_64 rng{std::random_device{}()};
      uint64_t a = rng(), b = rng();
      id_ = fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                        a & 0xfff, 0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
      Emit("START");
    }
    void Emit(const std::string& type) {
      if (!notifier_) return;
      json inputs = json::array();
      for (const auto& t : inputs_) inputs.push_back({{"namespace", namespace_}, {"name", t}});
      notifier_->PublishRaw(
          "lineage",
          {{"eventType", type},
           {"eventTime", Rfc3339(NowMs())},
           {"producer", "https://github.com/sluice-data/sluice"},
           {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
           {"run", {{"runId", id_}}},
           {"job", {{"namespace", namespace_}, {"name", job_}}},
           {"inputs", inputs},
           {"outputs", json::array({{{"namespace", namespace_}, {"name", output_}}})}});
    }

   private:
    notify::Notifier* notifier_;
    std::string namespace_, job_, id_;
    std::vector<std::string> inputs_;
    std::string output_;
  };

  json Transform(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    std::vector<std::string> inputs;
    std::string output = step.target;
    if (auto it = ws.project.jobs.find(step.target);
        step.kind == "job" && it != ws.project.jobs.end()) {
      inputs = {it->second.input.str()};
      output = it->second.output.table.str();
    } else if (auto t = project::TableName::Parse(step.target); t && ws.project.models.count(*t)) {
      for (const auto& ref : ws.project.models.at(*t).refs) inputs.push_back(ref.table.str());
    }
    LineageRun lineage(notifier_, ws, step, inputs, output);
    try {
      json out = TransformStep(ws, step, ctx);
      lineage.Emit("COMPLETE");
      return out;
    } catch (...) {
      lineage.Emit("FAIL");
      throw;
    }
  }

  json TransformStep(transform::Workspace& ws, const project::WorkflowStep& step,
                     StepContext& ctx) {
    transform::RunOptions options;
    options.trigger = Trigger(ctx);
    options.on_start = ctx.set_child;
    transform::RunReport report;
    try {
      if (step.kind == "job") {
        auto it = ws.project.jobs.find(step.target);
        if (it == ws.project.jobs.end()) {
          FailWithCode(ErrorKind::kConfig, "config.unknown_target", "no job '{}' in the project",
                       step.target);
        }
        std::lock_guard lock(LockFor("job:" + step.target));
        report = transform::RunJob(ws, it->second, options);
      } else {
        auto table = project::TableName::Parse(step.target);
        auto it = table ? ws.project.models.find(*table) : ws.project.models.end();
        if (it == ws.project.models.end()) {
          FailWithCode(ErrorKind::kConfig, "config.unknown_target", "no model '{}' in the project",
                       step.target);
        }
        std::lock_guard lock(LockFor("model:" + step.target));
        report = warehouse::RunAnyModel(ws, it->second, options);
      }
    } catch (const Error& e) {
      QualityFailed(ws, ctx, step.kind + " " + step.target, e);
      throw;
    }
    json checks = ReportChecks(ws, ctx, step.kind + " " + step.target, report.checks);
    json out = {{"child_run_id", report.run_id},
                {"output", report.output},
                {"version", report.version},
                {"rows_in", report.rows_in},
                {"rows_out", report.rows_out},
                {"rows_quarantined", report.rows_quarantined},
                {"files", report.files_read},
                {"message", report.message},
                {"checks", checks}};
    // Its destination, if it declares one: a failed load fails the step (retry rules apply; a
    // retry runs the job again, which changes nothing, and loads).
    std::lock_guard lock(LockFor("load:" + report.output));
    if (auto load = warehouse::LoadDestination(ws, step.kind, step.target)) {
      ctx.log("info", "warehouse: " + load->message);
      out["load"] = api::LoadJson(*load);
    }
    return out;
  }

  // A `load:` step: a catalog table into the warehouse; its output has the load's figures (rows,
  // inserted, updated, deleted, ...), for conditions such as steps.load_orders.inserted > 0.
  json Load(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    auto table = project::TableName::Parse(step.target);
    if (!table || !ws.metastore->GetTable(table->db, table->name)) {
      FailWithCode(ErrorKind::kInput, "input.not_in_catalog", "table {} does not exist yet",
                   step.target);
    }
    warehouse::LoadRequest request;
    request.table = *table;
    request.destination = project::ResolveDestination(
        ws.project, *table, step.destination.value_or(project::Destination{}));
    std::lock_guard lock(LockFor("load:" + step.target));
    auto wh = warehouse::Open(ws.project.env);
    auto load = warehouse::Load(ws, *wh, request);
    ctx.log("info", "warehouse: " + load.message);
    return api::LoadJson(load);
  }

  json Check(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    project::Diagnostics diagnostics;
    auto specs = step.checks;
    // The run's workflow was read again from its stored text: its rule files come from the
    // definitions the run runs, never from the folder as it is now.
    if (ws.snapshot) {
      project::DefinitionReader files(
          ws.project.root,
          std::shared_ptr<const project::DefinitionFiles>(ws.snapshot, &ws.snapshot->files()));
      project::ReadRuleFiles(files, specs);
    } else {
      project::DefinitionReader files(ws.project.root);
      project::ReadRuleFiles(files, specs);
    }
    for (auto& spec : specs) {
      if (spec.on_fail == "quarantine") spec.on_fail = "fail";  // nothing to set aside here
    }
    auto rules = quality::ParseCheckSpecs(specs, diagnostics);
    diagnostics.ThrowIfAny();
    auto table = project::TableName::Parse(step.target);
    if (!table || !ws.metastore->GetTable(table->db, table->name)) {
      FailWithCode(ErrorKind::kInput, "input.not_in_catalog", "table {} does not exist yet",
                   step.target);
    }
    auto results = transform::EvaluateTable(ws, *table, rules);
    json checks = ReportChecks(ws, ctx, step.target, results);
    std::vector<std::string> failed;
    size_t warned = 0;
    for (const auto& c : results) {
      if (c.outcome == "pass") continue;
      if (c.on_fail == "warn") {
        ++warned;  // logged by ReportChecks
        continue;
      }
      failed.push_back(c.rule);
      ctx.log("error", fmt::format("check {} on {}: {} (observed {})", c.rule, step.target,
                                   c.outcome, c.observed));
    }
    if (!failed.empty()) {
      auto ev = EventFor(
          ws, ctx, "quality_failed",
          fmt::format("{}: {} rule(s) failed: {}", step.target, failed.size(), Join(failed, "; ")));
      ev.error_kind = "quality";
      ev.details = {{"checks", checks}};
      Publish(ev);
      FailWithCode(ErrorKind::kQuality, "quality.check_failed", "{} rule(s) failed on {}: {}",
                   failed.size(), step.target, Join(failed, "; "));
    }
    return {{"checks", checks}, {"failed", failed.size()}, {"warned", warned}};
  }

  json Notify(transform::Workspace& ws, const project::WorkflowStep& step, StepContext& ctx) {
    if (!notifier_)
      FailWithCode(ErrorKind::kConfig, "config.invalid", "notifications are not available here");
    const json& scope = *ctx.scope;
    NotifyAbout about = NotifyAboutOf(scope);
    std::string workflow = scope["run"].value("workflow", "");
    json error = about == NotifyAbout::kMessage ? json::object() : scope["error"];
    std::string step_at = error.value("step", ""), text = error.value("message", "");
    std::string message = Substitute(step.message, scope);
    if (step.message.empty()) {
      message = about == NotifyAbout::kRunFailure
                    ? fmt::format("workflow {} failed at {}: {}", workflow, step_at, text)
                : about == NotifyAbout::kCaughtFailure
                    ? fmt::format("workflow {}: {} failed and its catch rule handles it: {}",
                                  workflow, step_at, text)
                    : fmt::format("workflow {} (run {}): {}", workflow, ctx.run_id, ctx.path);
    }
    auto e = EventFor(ws, ctx,
                      about == NotifyAbout::kRunFailure      ? "run_failed"
                      : about == NotifyAbout::kCaughtFailure ? "step_caught"
                                                             : "message",
                      message);
    if (about != NotifyAbout::kMessage) {
      e.error_kind = error.value("kind", "");
      e.error = text;
      e.step = step_at;
    }
    notifier_->Send(step.target, e);
    return {{"channel", step.target}};
  }

  notify::Notifier* notifier_;
};

}  // namespace

std::unique_ptr<StepRunner> MakeProjectRunner(notify::Notifier* notifier) {
  return std::make_unique<ProjectRunner>(notifier);
}

}  // namespace sluice::orchestrator
