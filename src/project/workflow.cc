#include "project/workflow.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "project/reader.h"

namespace sluice::project {

namespace {

// The milliseconds `text` says, unbounded (99999999999999999999h is a number too); nullopt when
// it is not a duration.
std::optional<double> DurationValueMs(const std::string& text) {
  static const std::regex re(R"(\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) return std::nullopt;
  double value = std::strtod(m[1].str().c_str(), nullptr);  // inf when out of range
  std::string unit = m[2].matched ? m[2].str() : "s";
  double factor = unit == "ms"  ? 1
                  : unit == "s" ? 1e3
                  : unit == "m" ? 6e4
                  : unit == "h" ? 3.6e6
                                : 8.64e7;
  return value * factor;
}

}  // namespace

std::optional<int64_t> ParseDurationMs(const std::string& text) {
  auto ms = DurationValueMs(text);
  if (!ms || *ms > static_cast<double>(kMaxDurationMs)) return std::nullopt;
  return static_cast<int64_t>(std::llround(*ms));
}

namespace {

const std::vector<std::string> kStepKinds = {"crawl", "extract",  "job",    "model", "check",
                                             "load",  "command",  "notify", "wait",  "pass",
                                             "fail",  "parallel", "choice", "map",   "workflow"};
const std::vector<std::string> kCommonStepKeys = {"name", "retry", "catch", "timeout",
                                                  "description"};

class WorkflowReader {
 public:
  explicit WorkflowReader(FileReader& r) : r_(r) {}

  // command: [PROGRAM, ARG...] with workdir: and env:. The id is the program's name, or the name
  // of the script it runs ([python3, scripts/score.py] -> score).
  void ReadCommand(const YAML::Node& node, WorkflowStep& step) {
    ReadProgramSettings(r_, node, step.program, "a command step");
    // The id: the script an interpreter runs, else the program.
    std::string id;
    for (const auto& arg : step.program.command) {
      static const std::regex script(R"(.*\.(py|sh|bash|R|r|js|rb|pl|jl|sql)$)");
      if (std::regex_match(arg, script)) {
        id = fs::path(arg).stem().string();
        break;
      }
    }
    if (id.empty() && !step.program.command.empty()) {
      id = fs::path(step.program.command[0]).filename().string();
    }
    for (char& c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    step.id = id.empty() ? "command" : id;
  }

  std::optional<int64_t> Duration(const YAML::Node& node, const std::string& what) {
    auto text = r_.Scalar(node, what);
    if (!text) return std::nullopt;
    auto ms = DurationValueMs(*text);
    if (!ms) {
      r_.Error(node, fmt::format("{} '{}' is not a duration", what, *text),
               "write e.g. 500ms, 2s, 5m, 1h or 1d");
    } else if (*ms > static_cast<double>(kMaxDurationMs)) {
      r_.Error(node, fmt::format("{} '{}' is too long: at most {}d", what, *text,
                                 kMaxDurationMs / 86400000));
      return std::nullopt;
    }
    return ParseDurationMs(*text);
  }

  std::optional<int> Count(const YAML::Node& node, const std::string& what, int min) {
    auto text = r_.Scalar(node, what);
    if (!text) return std::nullopt;
    try {
      size_t used = 0;
      int v = std::stoi(*text, &used);
      if (used == text->size() && v >= min) return v;
    } catch (const std::exception&) {
    }
    r_.Error(node,
             fmt::format("{} must be a whole number of at least {}, not '{}'", what, min, *text));
    return std::nullopt;
  }

  std::vector<std::string> ErrorKinds(const YAML::Node& node, const std::string& what) {
    std::vector<std::string> out;
    for (const auto& kind : r_.NameList(node, what)) {
      if (std::find(kErrorKinds.begin(), kErrorKinds.end(), kind) != kErrorKinds.end()) {
        out.push_back(kind);
        continue;
      }
      std::string near = Nearest(kind, kErrorKinds);
      r_.Error(node, fmt::format("'{}' is not an error kind", kind),
               near.empty() ? "error kinds: " + Join(kErrorKinds, ", ")
                            : fmt::format("did you mean '{}'?", near));
    }
    return out;
  }

  Retry ReadRetry(const YAML::Node& node) {
    Retry retry;
    if (node.IsScalar()) {  // `retry: 3`
      retry.attempts = Count(node, "retry", 1).value_or(1);
      return retry;
    }
    if (!node.IsMap()) {
      r_.Error(node, "retry must be a number of attempts or a mapping",
               "e.g. retry: { attempts: 3, interval: 2s, backoff_rate: 2.0 }");
      return retry;
    }
    r_.CheckKeys(node, {"attempts", "interval", "backoff_rate", "max_delay", "jitter", "on"},
                 "retry");
    if (auto n = node["attempts"]) retry.attempts = Count(n, "attempts", 1).value_or(1);
    if (auto n = node["interval"]) retry.interval_ms = Duration(n, "interval").value_or(1000);
    if (auto n = node["max_delay"]) retry.max_delay_ms = Duration(n, "max_delay").value_or(0);
    if (auto n = node["backoff_rate"]) {
      auto text = r_.Scalar(n, "backoff_rate");
      char* end = nullptr;
      double v = text ? std::strtod(text->c_str(), &end) : 0;
      if (text && (end == text->c_str() || *end != '\0' || v < 1.0)) {
        r_.Error(n, fmt::format("backoff_rate must be a number of at least 1.0, not '{}'", *text));
      } else if (text) {
        retry.backoff_rate = v;
      }
    }
    if (auto n = node["jitter"]) {
      retry.full_jitter = r_.Choice(n, "jitter", {"full", "none"}).value_or("none") == "full";
    }
    if (auto n = node["on"]) retry.on = ErrorKinds(n, "retry on");
    return retry;
  }

  std::vector<WorkflowStep> Steps(const YAML::Node& node, const std::string& what) {
    std::vector<WorkflowStep> out;
    if (!node.IsSequence()) {
      r_.Error(node, fmt::format("{} must be a list of steps", what),
               "e.g. `- job: clean_orders` on its own line");
      return out;
    }
    std::set<std::string> ids;
    for (const auto& item : node) {
      auto step = Step(item);
      if (!step) continue;
      if (!ids.insert(step->id).second) {
        r_.Error(item, fmt::format("two steps here are called '{}'", step->id),
                 "give one of them a `name:`");
        continue;
      }
      out.push_back(std::move(*step));
    }
    return out;
  }

 private:
  std::optional<WorkflowStep> Step(const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
      r_.Error(node, "a step must be a mapping such as `- job: clean_orders`",
               "step kinds: " + Join(kStepKinds, ", "));
      return std::nullopt;
    }
    WorkflowStep step;
    step.where = r_.At(node);
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      if (std::find(kStepKinds.begin(), kStepKinds.end(), key) == kStepKinds.end()) continue;
      if (!step.kind.empty()) {
        r_.Error(it->first,
                 fmt::format("a step has one kind; this one says both {} and {}", step.kind, key),
                 "split it into two steps");
        return std::nullopt;
      }
      step.kind = key;
    }
    if (step.kind.empty()) {
      std::string first = node.begin()->first.Scalar();
      std::string near = Nearest(first, kStepKinds);
      r_.Error(node.begin()->first, fmt::format("'{}' is not a step kind", first),
               near.empty() ? "step kinds: " + Join(kStepKinds, ", ")
                            : fmt::format("did you mean '{}'?", near));
      return std::nullopt;
    }
    std::vector<std::string> keys = kCommonStepKeys;
    keys.push_back(step.kind);
    const YAML::Node body = node[step.kind];
    const std::string& k = step.kind;
    if (k == "crawl" || k == "extract" || k == "job" || k == "notify" || k == "workflow") {
      step.target = r_.Scalar(body, k).value_or("");
      if (k == "notify") keys.push_back("message");
      if (k == "workflow") keys.push_back("params");
      step.id = k == "notify"    ? "notify_" + step.target
                : k == "extract" ? "extract_" + step.target
                                 : step.target;
    } else if (k == "model" || k == "check") {
      if (auto t = ReadTableName(r_, body, k)) step.target = t->str();
      if (k == "check") {
        keys.push_back("rules");
        if (auto rules = node["rules"]) {
          step.checks = ReadChecks(r_, rules);
        } else {
          r_.Error(node, "a check step needs `rules`",
                   "e.g. rules: [ 'RowCount > 0', 'IsComplete \"order_id\"' ]");
        }
      }
      // The table's own name: ids are used in conditions as steps.<id>.rows_out.
      std::string name = step.target.substr(step.target.find('.') + 1);
      step.id = k == "check" ? "check_" + name : name;
    } else if (k == "load") {
      // load: gold.daily_revenue, or { table: gold.daily_revenue, to: SCHEMA.TABLE, mode, ... }
      const YAML::Node table = body.IsMap() ? body["table"] : body;
      if (!table) {
        r_.Error(body, "a load step needs `table`, the catalog table to load",
                 "e.g. load: { table: gold.daily_revenue, mode: merge, key: [order_date] }");
      } else if (auto t = ReadTableName(r_, table, "load table")) {
        step.target = t->str();
      }
      step.destination =
          body.IsMap() ? ReadDestination(r_, body, "load", "to", {"table"}) : Destination{};
      if (step.destination) step.destination->where = r_.At(body);
      step.id = "load_" + step.target.substr(step.target.find('.') + 1);
    } else if (k == "command") {
      keys.insert(keys.end(), {"workdir", "env"});
      ReadCommand(node, step);
    } else if (k == "wait") {
      step.wait_ms = Duration(body, "wait").value_or(0);
      step.id = "wait";
    } else if (k == "pass") {
      step.id = body.IsScalar() && !body.Scalar().empty() ? body.Scalar() : "pass";
    } else if (k == "fail") {
      step.message = r_.Scalar(body, "fail").value_or("");
      keys.push_back("error");
      if (auto e = node["error"]) {
        auto kinds = ErrorKinds(e, "error");
        if (!kinds.empty()) step.error_kind = kinds[0];
      }
      step.id = "fail";
    } else if (k == "parallel") {
      keys.push_back("max_concurrency");
      if (!body.IsSequence() || body.size() == 0) {
        r_.Error(body, "parallel must be a list of branches, each a list of steps",
                 "e.g. parallel: [ [ {job: a} ], [ {job: b}, {model: gold.x} ] ]");
      } else {
        for (const auto& branch : body) {
          if (branch.IsMap()) {  // a branch of one step
            YAML::Node list(YAML::NodeType::Sequence);
            list.push_back(branch);
            step.branches.push_back(Steps(list, "a parallel branch"));
          } else {
            step.branches.push_back(Steps(branch, "a parallel branch"));
          }
        }
      }
      step.id = "parallel";
    } else if (k == "choice") {
      keys.push_back("otherwise");
      if (!body.IsSequence() || body.size() == 0) {
        r_.Error(body, "choice must be a list of { when: EXPRESSION, steps: [...] }",
                 "e.g. - when: \"steps.clean_orders.rows_quarantined > 0\"");
      } else {
        for (const auto& rule : body) {
          if (!rule.IsMap()) {
            r_.Error(rule, "a choice rule must be a mapping with `when` and `steps`");
            continue;
          }
          r_.CheckKeys(rule, {"when", "steps"}, "a choice rule");
          ChoiceRule c;
          c.where = r_.At(rule);
          if (auto w = rule["when"]) {
            c.where = r_.At(w);
            c.when = r_.Scalar(w, "when").value_or("");
          } else {
            r_.Error(rule, "a choice rule needs `when`");
          }
          if (auto s = rule["steps"]) {
            c.steps = Steps(s, "a choice rule's steps");
          } else {
            r_.Error(rule, "a choice rule needs `steps`");
          }
          step.choices.push_back(std::move(c));
        }
      }
      if (auto o = node["otherwise"]) step.otherwise = Steps(o, "otherwise");
      step.id = "choice";
    } else if (k == "map") {
      if (!body.IsMap()) {
        r_.Error(body, "map must be a mapping with `over` and `steps`",
                 "e.g. map: { over: files, max_concurrency: 4, steps: [ ... ] }");
      } else {
        r_.CheckKeys(body, {"over", "max_concurrency", "steps"}, "map");
        if (auto o = body["over"]) step.over = r_.Scalar(o, "over").value_or("files");
        if (auto m = body["max_concurrency"]) {
          step.max_concurrency = Count(m, "max_concurrency", 1).value_or(0);
        }
        if (auto s = body["steps"]) {
          step.steps = Steps(s, "map steps");
        } else {
          r_.Error(body, "map needs `steps`: what to do for each item");
        }
      }
      step.id = "map";
    }
    if (k == "parallel") {
      if (auto m = node["max_concurrency"]) {
        step.max_concurrency = Count(m, "max_concurrency", 1).value_or(0);
      }
    }
    r_.CheckKeys(node, keys, fmt::format("a {} step", k));
    if (auto n = node["name"]) {
      auto name = r_.Scalar(n, "name");
      if (name && IsPlainName(*name)) {
        step.id = *name;
      } else if (name) {
        r_.Error(n, fmt::format("step name '{}' must be letters, digits and _", *name));
      }
    }
    if (auto n = node["message"]) step.message = r_.Scalar(n, "message").value_or("");
    if (auto n = node["params"]) step.params = r_.Pairs(n, "params");
    if (auto n = node["retry"]) step.retry = ReadRetry(n);
    if (auto n = node["timeout"]) step.timeout_ms = Duration(n, "timeout").value_or(0);
    if (auto n = node["catch"]) {
      if (!n.IsSequence()) {
        r_.Error(n, "catch must be a list of { errors: [...], steps: [...] }");
      } else {
        for (const auto& c : n) {
          if (!c.IsMap()) {
            r_.Error(c, "a catch rule must be a mapping with `errors` and `steps`");
            continue;
          }
          r_.CheckKeys(c, {"errors", "steps"}, "a catch rule");
          Catch rule;
          rule.where = r_.At(c);
          rule.errors =
              c["errors"] ? ErrorKinds(c["errors"], "errors") : std::vector<std::string>{"any"};
          if (auto s = c["steps"]) {
            rule.steps = Steps(s, "catch steps");
          } else {
            r_.Error(c, "a catch rule needs `steps`: what to do instead");
          }
          step.catches.push_back(std::move(rule));
        }
      }
    }
    return step;
  }

  FileReader& r_;
};

Trigger ReadTrigger(FileReader& r, WorkflowReader& w, const YAML::Node& node, bool& ok) {
  Trigger t;
  t.where = r.At(node);
  ok = false;
  if (!node.IsMap()) {
    r.Error(node, "a trigger must be a mapping",
            "e.g. { on_arrival: orders }, { schedule: \"0 2 * * *\" } or { after: load }");
    return t;
  }
  for (const char* kind : {"on_arrival", "schedule", "after"}) {
    if (node[kind]) {
      if (!t.kind.empty()) {
        r.Error(node, "a trigger has one kind", "write each trigger as its own list item");
        return t;
      }
      t.kind = kind;
      t.target = r.Scalar(node[kind], kind).value_or("");
    }
  }
  if (t.kind.empty()) {
    r.Error(node, "a trigger needs on_arrival, schedule or after");
    return t;
  }
  if (t.kind == "on_arrival") {
    r.CheckKeys(node, {"on_arrival", "batch_window"}, "an on_arrival trigger");
    if (auto n = node["batch_window"])
      t.batch_window_ms = w.Duration(n, "batch_window").value_or(0);
  } else if (t.kind == "schedule") {
    r.CheckKeys(node, {"schedule", "timezone", "catch_up"}, "a schedule trigger");
    if (auto n = node["timezone"]) t.timezone = r.Scalar(n, "timezone").value_or("UTC");
    if (auto n = node["catch_up"]) {
      t.catch_up = r.Choice(n, "catch_up", {"none", "latest", "all"}).value_or("none");
    }
  } else {
    r.CheckKeys(node, {"after", "on"}, "an after trigger");
    if (auto n = node["on"]) t.on = r.Choice(n, "on", {"success", "failure", "any"}).value_or("");
  }
  ok = !t.target.empty();
  return t;
}

}  // namespace

std::optional<Workflow> ParseWorkflow(const std::string& text, const std::string& file,
                                      Diagnostics& diagnostics) {
  auto parsed = ParseYamlText(text, file, diagnostics);
  if (!parsed) return std::nullopt;
  const YAML::Node& doc = *parsed;
  FileReader r(file, diagnostics);
  WorkflowReader w(r);
  if (!doc.IsMap() || !doc["workflow"]) {
    r.Error(doc, "a workflow file must be a mapping starting with `workflow: NAME`");
    return std::nullopt;
  }
  r.CheckKeys(doc,
              {"workflow", "description", "triggers", "steps", "materialize", "on_success",
               "on_failure", "timeout", "max_concurrent_runs", "parameters"},
              "a workflow");
  Workflow wf;
  wf.file = file;
  wf.text = text;
  wf.where = r.At(doc["workflow"]);
  auto name = r.Scalar(doc["workflow"], "workflow");
  if (!name || !IsPlainName(*name)) {
    if (name)
      r.Error(doc["workflow"],
              fmt::format("workflow name '{}' must be letters, digits and _", *name));
    return std::nullopt;
  }
  wf.name = ToLower(*name);
  if (auto n = doc["description"]) wf.description = r.Scalar(n, "description").value_or("");
  if (auto n = doc["triggers"]) {
    if (!n.IsSequence()) {
      r.Error(n, "triggers must be a list", "e.g. triggers: [ { on_arrival: orders } ]");
    } else {
      for (const auto& t : n) {
        bool ok = false;
        Trigger trigger = ReadTrigger(r, w, t, ok);
        if (ok) wf.triggers.push_back(trigger);
      }
    }
  }
  if (auto n = doc["steps"]) wf.steps = w.Steps(n, "steps");
  if (auto n = doc["materialize"]) {
    wf.materialize_where = r.At(n);
    for (const auto& t : r.NameList(n, "materialize")) {
      auto table = TableName::Parse(t);
      if (table) {
        wf.materialize.push_back(*table);
      } else {
        r.Error(n, fmt::format("materialize: '{}' is not a table name", t),
                "write it as database.table, e.g. gold.daily_revenue");
      }
    }
  }
  if (doc["steps"] && doc["materialize"]) {
    r.Error(doc["materialize"], "a workflow has either `steps` or `materialize`, not both");
  } else if (!doc["steps"] && !doc["materialize"]) {
    r.Error(doc["workflow"], fmt::format("workflow '{}' has no steps", wf.name),
            "add `steps:` (a list) or `materialize: [gold.table]`");
  }
  if (auto n = doc["on_success"]) wf.on_success = w.Steps(n, "on_success");
  if (auto n = doc["on_failure"]) wf.on_failure = w.Steps(n, "on_failure");
  if (auto n = doc["timeout"]) wf.timeout_ms = w.Duration(n, "timeout").value_or(0);
  if (auto n = doc["max_concurrent_runs"]) {
    wf.max_concurrent_runs = w.Count(n, "max_concurrent_runs", 1).value_or(0);
  }
  if (auto n = doc["parameters"]) wf.parameters = r.Pairs(n, "parameters");
  return wf;
}

namespace {

// Workflow -> the workflows it leads to, each with where the edge is written.
using WorkflowGraph = std::map<std::string, std::vector<std::pair<std::string, Location>>>;

void AddChildEdges(const std::string& from, const std::vector<WorkflowStep>& steps,
                   WorkflowGraph& graph) {
  for (const auto& s : steps) {
    if (s.kind == "workflow") graph[from].emplace_back(s.target, s.where);
    for (const auto& b : s.branches) AddChildEdges(from, b, graph);
    for (const auto& c : s.choices) AddChildEdges(from, c.steps, graph);
    for (const auto& c : s.catches) AddChildEdges(from, c.steps, graph);
    AddChildEdges(from, s.otherwise, graph);
    AddChildEdges(from, s.steps, graph);
  }
}

// Depth-first over `graph`; a back edge closes a cycle, reported with its path.
void ReportCycles(const WorkflowGraph& graph, const std::map<std::string, Workflow>& workflows,
                  const char* through, const std::string& hint, Diagnostics& diagnostics) {
  std::map<std::string, int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    state[name] = 1;
    path.push_back(name);
    if (auto it = graph.find(name); it != graph.end()) {
      for (const auto& [to, where] : it->second) {
        if (!workflows.count(to)) continue;  // reported as unknown elsewhere
        if (state[to] == 1) {
          std::vector<std::string> cycle(std::find(path.begin(), path.end(), to), path.end());
          cycle.push_back(to);
          diagnostics.Add(
              where, fmt::format("workflow {} {}: {}", to, through, Join(cycle, " -> ")), hint);
        } else if (state[to] == 0) {
          visit(to);
        }
      }
    }
    path.pop_back();
    state[name] = 2;
  };
  for (const auto& [name, wf] : workflows) {
    if (state[name] == 0) visit(name);
  }
}

}  // namespace

void CheckWorkflowCycles(const std::map<std::string, Workflow>& workflows,
                         Diagnostics& diagnostics) {
  WorkflowGraph children, after;
  for (const auto& [name, wf] : workflows) {
    AddChildEdges(name, wf.steps, children);
    AddChildEdges(name, wf.on_success, children);
    AddChildEdges(name, wf.on_failure, children);
    for (const auto& t : wf.triggers) {
      if (t.kind == "after") after[t.target].emplace_back(name, t.where);
    }
  }
  ReportCycles(children, workflows, "runs itself through child workflow steps",
               "a child workflow cannot lead back to a workflow that runs it; move the shared "
               "steps into a workflow of their own",
               diagnostics);
  ReportCycles(after, workflows, "starts itself through `after` triggers, without end",
               "start one of these workflows by schedule, arrival or by hand instead", diagnostics);
}

namespace {
void ReadStepRuleFiles(DefinitionReader& files, std::vector<WorkflowStep>& steps) {
  for (auto& step : steps) {
    ReadRuleFiles(files, step.checks);
    for (auto& branch : step.branches) ReadStepRuleFiles(files, branch);
    for (auto& choice : step.choices) ReadStepRuleFiles(files, choice.steps);
    for (auto& c : step.catches) ReadStepRuleFiles(files, c.steps);
    ReadStepRuleFiles(files, step.otherwise);
    ReadStepRuleFiles(files, step.steps);
  }
}
}  // namespace

void ReadRuleFiles(DefinitionReader& files, Workflow& workflow) {
  ReadStepRuleFiles(files, workflow.steps);
  ReadStepRuleFiles(files, workflow.on_success);
  ReadStepRuleFiles(files, workflow.on_failure);
}

std::map<std::string, Workflow> LoadWorkflows(const fs::path& root, Diagnostics& diagnostics) {
  DefinitionReader files(root);
  return LoadWorkflows(files, diagnostics);
}

std::map<std::string, Workflow> LoadWorkflows(DefinitionReader& files, Diagnostics& diagnostics) {
  std::map<std::string, Workflow> out;
  for (const auto& rel : ListDefinitions(files, "workflows", {".yaml", ".yml"}, diagnostics)) {
    const std::string* text = nullptr;
    try {
      text = &files.Read(rel);
    } catch (const Error& e) {
      diagnostics.Add({rel, 0, 0}, e.what(), "", e.shown_code());
      continue;
    }
    auto wf = ParseWorkflow(*text, rel, diagnostics);
    if (!wf) continue;
    ReadRuleFiles(files, *wf);
    if (out.count(wf->name)) {
      diagnostics.Add(wf->where, fmt::format("workflow '{}' is defined twice (also in {})",
                                             wf->name, out[wf->name].file));
      continue;
    }
    out[wf->name] = std::move(*wf);
  }
  return out;
}

}  // namespace sluice::project
