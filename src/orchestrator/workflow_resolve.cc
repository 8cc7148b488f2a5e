#include "orchestrator/workflow_resolve.h"

#include <fmt/format.h>

#include <set>

#include "common/error.h"
#include "common/strings.h"
#include "orchestrator/cron.h"
#include "orchestrator/expression.h"
#include "quality/check_specs.h"
#include "transform/validate.h"
#include "warehouse/load.h"

namespace sluice::orchestrator {
namespace {

template <typename Map>
std::vector<std::string> Names(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [k, v] : map) out.push_back(fmt::format("{}", k));
  return out;
}

void Unknown(project::Diagnostics& d, const project::Location& where, const std::string& what,
             const std::string& name, const std::vector<std::string>& known) {
  std::string near = Nearest(name, known);
  d.Add(where, fmt::format("no {} '{}' in the project", what, name),
        near.empty() ? (known.empty() ? "" : "known: " + Join(known, ", "))
                     : fmt::format("did you mean '{}'?", near));
}

void CheckSteps(const transform::Workspace& ws, const std::vector<project::WorkflowStep>& steps,
                project::Diagnostics& d) {
  const auto& p = ws.project;
  std::vector<std::string> models;
  for (const auto& [t, m] : p.models) models.push_back(t.str());
  for (const auto& s : steps) {
    if ((s.kind == "crawl" || s.kind == "extract") && !p.sources.count(s.target)) {
      Unknown(d, s.where, "source", s.target, Names(p.sources));
    } else if (s.kind == "extract" && !p.sources.at(s.target).extract) {
      d.Add(s.where, fmt::format("source '{}' has no extract: an extract step needs one", s.target),
            "add `extract: { http: ... }` to the source, or crawl it instead");
    } else if (s.kind == "job" && !p.jobs.count(s.target)) {
      Unknown(d, s.where, "job", s.target, Names(p.jobs));
    } else if (s.kind == "model" &&
               std::find(models.begin(), models.end(), s.target) == models.end()) {
      Unknown(d, s.where, "model", s.target, models);
    } else if (s.kind == "notify" && !p.channels.count(s.target)) {
      Unknown(d, s.where, "notification channel", s.target, Names(p.channels));
    } else if (s.kind == "workflow" && !ws.workflows.count(s.target)) {
      Unknown(d, s.where, "workflow", s.target, Names(ws.workflows));
    } else if (s.kind == "load" && !s.target.empty()) {
      // The table a load step sends: one the project makes in the lake (a job's output, a
      // lake model, a source's bronze table).
      std::vector<std::string> tables;
      for (const auto& [t, m] : p.models) {
        if (!m.in_warehouse) tables.push_back(t.str());
      }
      for (const auto& [name, job] : p.jobs) tables.push_back(job.output.table.str());
      for (const auto& [name, source] : p.sources) tables.push_back("bronze." + name);
      if (std::find(tables.begin(), tables.end(), s.target) == tables.end()) {
        Unknown(d, s.where, "table written by a job, model or source", s.target, tables);
      } else if (s.destination) {
        try {
          project::ResolveDestination(p, *project::TableName::Parse(s.target), *s.destination);
        } catch (const Error& e) {
          d.Add(s.where, e.what(), "", e.shown_code());
        }
      }
    }
    if (s.kind == "command") {
      std::error_code ec;
      if (!s.program.workdir.empty() && !fs::is_directory(p.root / s.program.workdir, ec)) {
        d.Add(s.where,
              fmt::format("command workdir '{}' is no folder of the project", s.program.workdir),
              "workdir is relative to the project folder");
      }
    }
    // A check step's rules parse now (a missing, malformed or too deep rule file is found by
    // validate and refused by a reload), not when the step first runs.
    quality::ParseCheckSpecs(s.checks, d);
    for (const auto& c : s.choices) {
      try {
        Expression::Parse(c.when);
      } catch (const Error& e) {
        std::string shown = c.when.size() > 60 ? c.when.substr(0, 60) + "..." : c.when;
        d.Add(c.where, fmt::format("when '{}': {}", shown, e.what()),
              "e.g. when: \"steps.clean_orders.rows_quarantined > 0\"");
      }
      CheckSteps(ws, c.steps, d);
    }
    for (const auto& b : s.branches) CheckSteps(ws, b, d);
    for (const auto& c : s.catches) CheckSteps(ws, c.steps, d);
    CheckSteps(ws, s.otherwise, d);
    CheckSteps(ws, s.steps, d);
    if (s.kind == "map" && s.over != "files" && s.over != "partitions") {
      std::string name = s.over.rfind("params.", 0) == 0 ? s.over.substr(7) : s.over;
      auto wf = std::find_if(ws.workflows.begin(), ws.workflows.end(),
                             [&](const auto& w) { return w.second.file == s.where.file; });
      bool known = wf != ws.workflows.end() &&
                   std::any_of(wf->second.parameters.begin(), wf->second.parameters.end(),
                               [&](const auto& kv) { return kv.first == name; });
      if (!known) {
        d.Add(s.where, fmt::format("map over '{}': not files, partitions or a parameter", s.over),
              "declare it under `parameters:` or use over: files");
      }
    }
  }
}

void AddCommandSecrets(const std::vector<project::WorkflowStep>& steps, project::Diagnostics& d) {
  for (const auto& s : steps) {
    for (const auto& u : s.program.unset_env) d.Add(u.where, u.message, u.hint, u.code);
    for (const auto& c : s.choices) AddCommandSecrets(c.steps, d);
    for (const auto& b : s.branches) AddCommandSecrets(b, d);
    for (const auto& c : s.catches) AddCommandSecrets(c.steps, d);
    AddCommandSecrets(s.otherwise, d);
    AddCommandSecrets(s.steps, d);
  }
}

}  // namespace

void CheckCommandSecrets(const transform::Workspace& ws, project::Diagnostics& diagnostics) {
  for (const auto& [name, wf] : ws.workflows) {
    AddCommandSecrets(wf.steps, diagnostics);
    AddCommandSecrets(wf.on_success, diagnostics);
    AddCommandSecrets(wf.on_failure, diagnostics);
  }
  for (const auto& [name, job] : ws.project.jobs) {
    if (!job.script) continue;
    for (const auto& u : job.script->program.unset_env) {
      diagnostics.Add(u.where, u.message, u.hint, u.code);
    }
    std::error_code ec;
    const std::string& workdir = job.script->program.workdir;
    if (!workdir.empty() && !fs::is_directory(ws.project.root / workdir, ec)) {
      diagnostics.Add(job.script->where,
                      fmt::format("script workdir '{}' is no folder of the project", workdir),
                      "workdir is relative to the project folder");
    }
  }
}

void ValidateWorkflows(const transform::Workspace& ws, project::Diagnostics& d) {
  for (const auto& [name, wf] : ws.workflows) {
    for (const auto& t : wf.triggers) {
      if (t.kind == "on_arrival" && !ws.project.sources.count(t.target)) {
        Unknown(d, t.where, "source", t.target, Names(ws.project.sources));
      } else if (t.kind == "after" && !ws.workflows.count(t.target)) {
        Unknown(d, t.where, "workflow", t.target, Names(ws.workflows));
      } else if (t.kind == "schedule") {
        try {
          Cron::Parse(t.target, t.timezone);
        } catch (const Error& e) {
          d.Add(t.where, e.what(), "e.g. schedule: \"0 2 * * *\" with timezone: Europe/Paris");
        }
      }
    }
    for (const auto& target : wf.materialize) {
      bool written = ws.project.models.count(target) > 0;
      for (const auto& [jn, job] : ws.project.jobs) written = written || job.output.table == target;
      if (!written) {
        d.Add(wf.materialize_where,
              fmt::format("materialize: no job or model writes {}", target.str()));
      }
    }
    CheckSteps(ws, wf.steps, d);
    CheckSteps(ws, wf.on_success, d);
    CheckSteps(ws, wf.on_failure, d);
  }
  project::CheckWorkflowCycles(ws.workflows, d);
}

std::vector<project::WorkflowStep> MaterializeSteps(
    const project::Project& project, const std::vector<project::TableName>& targets) {
  project::Diagnostics ignored;
  auto dag = transform::BuildDag(project, ignored);
  std::set<size_t> needed;
  std::vector<int> stack;
  for (const auto& t : targets) stack.push_back(dag.WriterOf(t));
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (i < 0 || !needed.insert(static_cast<size_t>(i)).second) continue;
    for (const auto& in : dag.nodes[i].inputs) stack.push_back(dag.WriterOf(in.table));
  }
  std::vector<project::WorkflowStep> steps;
  std::set<std::string> crawled, ids;
  auto add = [&](project::WorkflowStep s) {
    std::string id = s.id;
    for (int n = 2; !ids.insert(s.id).second; ++n) s.id = fmt::format("{}_{}", id, n);
    steps.push_back(std::move(s));
  };
  for (size_t i : dag.order) {
    if (!needed.count(i)) continue;
    const auto& node = dag.nodes[i];
    for (const auto& in : node.inputs) {
      if (in.table.db == "bronze" && project.sources.count(in.table.name) &&
          crawled.insert(in.table.name).second) {
        // A source with an extractor pulls what is new first.
        if (project.sources.at(in.table.name).extract) {
          add({.kind = "extract",
               .id = "extract_" + in.table.name,
               .target = in.table.name,
               .where = in.where});
        }
        add({.kind = "crawl", .id = in.table.name, .target = in.table.name, .where = in.where});
      }
    }
    if (node.kind == "job") {
      add({.kind = "job", .id = node.name, .target = node.name, .where = node.where});
    } else {
      add({.kind = "model",
           .id = node.output.name,
           .target = node.output.str(),
           .where = node.where});
    }
  }
  return steps;
}

project::Workflow Expand(const project::Project& project, project::Workflow workflow) {
  if (!workflow.materialize.empty()) {
    workflow.steps = MaterializeSteps(project, workflow.materialize);
  }
  return workflow;
}

}  // namespace sluice::orchestrator
