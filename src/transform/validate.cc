#include "transform/validate.h"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "common/strings.h"
#include "quality/check_specs.h"

namespace sluice::transform {

int Dag::WriterOf(const project::TableName& table) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].output == table) return static_cast<int>(i);
  }
  return -1;
}

int Dag::Find(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::map<size_t, std::string> WaitingForSources(const Dag& dag, const project::Project& project,
                                                meta::CatalogStore& catalog) {
  std::map<size_t, std::string> waiting;
  for (size_t i : dag.order) {
    for (const auto& ref : dag.nodes[i].inputs) {
      int writer = dag.WriterOf(ref.table);
      if (writer >= 0) {
        if (auto it = waiting.find(static_cast<size_t>(writer)); it != waiting.end()) {
          waiting[i] = it->second;
          break;
        }
        continue;
      }
      auto source = project.sources.find(ref.table.name);
      if (ref.table.db != "bronze" || source == project.sources.end() ||
          catalog.GetTable(ref.table.db, ref.table.name)) {
        continue;
      }
      waiting[i] = fmt::format(
          "{} has no files yet (land them with `sluice {} {}`, then `sluice crawl {}`)",
          ref.table.str(), source->second.extract ? "extract" : "ingest",
          source->second.extract ? ref.table.name : ref.table.name + " FILES...", ref.table.name);
      break;
    }
  }
  return waiting;
}

Dag BuildDag(const project::Project& project, project::Diagnostics& diagnostics) {
  Dag dag;
  for (const auto& [name, job] : project.jobs) {
    dag.nodes.push_back({"job", name, job.output.table, {{job.input, job.input_where}}, job.where});
  }
  // Lake models, then warehouse models: where the graph leaves the order open, the warehouse
  // models run after every load.
  for (bool in_warehouse : {false, true}) {
    for (const auto& [table, model] : project.models) {
      if (model.in_warehouse != in_warehouse) continue;
      dag.nodes.push_back({"model", table.str(), table, model.refs, model.where});
    }
  }
  // One writer per table.
  std::map<std::string, size_t> writer;
  for (size_t i = 0; i < dag.nodes.size(); ++i) {
    const auto& n = dag.nodes[i];
    if (n.output.db.empty()) continue;
    auto [it, fresh] = writer.emplace(n.output.str(), i);
    if (!fresh) {
      diagnostics.Add(
          n.where,
          fmt::format("{} {} writes {}, which {} {} writes too", n.kind, n.name, n.output.str(),
                      dag.nodes[it->second].kind, dag.nodes[it->second].name),
          "each table has exactly one job or model that writes it", "config.duplicate_writer");
    }
  }
  // Inputs must exist: a source's bronze table, or a table some node writes.
  std::vector<std::string> known_tables;
  for (const auto& [name, s] : project.sources) known_tables.push_back("bronze." + name);
  for (const auto& [t, i] : writer) known_tables.push_back(t);
  std::vector<std::vector<size_t>> deps(dag.nodes.size());
  for (size_t i = 0; i < dag.nodes.size(); ++i) {
    // A warehouse model reads the warehouse: destinations and other warehouse models.
    bool in_warehouse =
        dag.nodes[i].kind == "model" && project::IsWarehouseModel(project, dag.nodes[i].output);
    for (const auto& in : dag.nodes[i].inputs) {
      if (in.table.db.empty()) continue;
      if (in_warehouse && !project::WarehouseTable(project, in.table)) {
        diagnostics.Add(
            in.where,
            fmt::format("warehouse model {} reads {}, which is not in the warehouse",
                        dag.nodes[i].name, in.table.str()),
            in.table.db == "bronze"
                ? "a source's table reaches the warehouse through a job: ref a job's output "
                  "that has a `destination:`"
                : fmt::format("give the job or model writing {} a `destination:`, or ref a "
                              "warehouse model",
                              in.table.str()),
            "config.not_in_warehouse");
        continue;
      }
      if (in.table.db == "bronze") {
        if (!project.sources.count(in.table.name)) {
          std::vector<std::string> names;
          for (const auto& [n, s] : project.sources) names.push_back(n);
          std::string near = Nearest(in.table.name, names);
          diagnostics.Add(in.where,
                          fmt::format("no source '{}' for {}", in.table.name, in.table.str()),
                          near.empty() ? fmt::format("add sources/{}.yaml", in.table.name)
                                       : fmt::format("did you mean 'bronze.{}'?", near),
                          "config.unknown_source");
        }
        continue;
      }
      auto it = writer.find(in.table.str());
      if (it == writer.end()) {
        std::string near = Nearest(in.table.str(), known_tables);
        diagnostics.Add(in.where, fmt::format("no job or model writes {}", in.table.str()),
                        near.empty() ? "" : fmt::format("did you mean '{}'?", near),
                        "config.unknown_table");
        continue;
      }
      deps[i].push_back(it->second);
      if (!in_warehouse && project::IsWarehouseModel(project, in.table)) {
        diagnostics.Add(in.where,
                        fmt::format("{} {} reads {}, a warehouse model: the lake cannot read the "
                                    "warehouse",
                                    dag.nodes[i].kind, dag.nodes[i].name, in.table.str()),
                        "make it a warehouse model too (materialized: warehouse), or read the "
                        "lake tables that model reads",
                        "config.reads_warehouse");
      }
      // Bookmarks follow files; a table rewritten by merge, overwrite or a model has new files
      // every run, so an incremental job would read it all again each time.
      const Node& writer_node = dag.nodes[it->second];
      if (dag.nodes[i].kind == "job" && project.jobs.at(dag.nodes[i].name).incremental) {
        std::string mode = writer_node.kind == "model"
                               ? project::ModelOutputMode(project.models.at(writer_node.output))
                               : project.jobs.at(writer_node.name).output.mode;
        if (mode != "append") {
          diagnostics.Add(in.where,
                          fmt::format("incremental job {} reads {}, which {} {} rewrites "
                                      "(mode {}) on every run",
                                      dag.nodes[i].name, in.table.str(), writer_node.kind,
                                      writer_node.name, mode),
                          "read it without `incremental: true`, or write it with mode append");
        }
      }
    }
  }
  // Depth-first topological order; a back edge is a cycle, printed in full.
  std::vector<int> state(dag.nodes.size(), 0);  // 0 new, 1 on the stack, 2 done
  std::vector<size_t> stack;
  bool cycle = false;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (cycle || state[i] == 2) return;
    if (state[i] == 1) {
      auto from = std::find(stack.begin(), stack.end(), i);
      std::vector<std::string> names;
      for (auto it = from; it != stack.end(); ++it) names.push_back(dag.nodes[*it].output.str());
      names.push_back(dag.nodes[i].output.str());
      diagnostics.Add(dag.nodes[i].where, "dependency cycle: " + Join(names, " -> "),
                      "a job or model cannot read, directly or not, the table it writes",
                      "config.cycle");
      cycle = true;
      return;
    }
    state[i] = 1;
    stack.push_back(i);
    for (size_t d : deps[i]) visit(d);
    stack.pop_back();
    state[i] = 2;
    if (!cycle) dag.order.push_back(i);
  };
  for (size_t i = 0; i < dag.nodes.size(); ++i) visit(i);
  if (cycle) dag.order.clear();
  return dag;
}

std::string QuarantineName(const project::TableName& model) { return model.db + "_" + model.name; }

void Validate(const project::Project& project, project::Diagnostics& diagnostics) {
  BuildDag(project, diagnostics);
  // quarantine.<job> and quarantine.<db>_<model> (for a model that quarantines): one owner each.
  std::map<std::string, std::string> quarantine_owner;
  for (const auto& [name, job] : project.jobs) {
    quality::ParseCheckSpecs(job.checks, diagnostics);
    quarantine_owner[name] = "job " + name;
  }
  for (const auto& [table, model] : project.models) {
    quality::ParseCheckSpecs(model.checks, diagnostics);
    bool quarantines =
        std::any_of(model.checks.begin(), model.checks.end(),
                    [](const project::CheckSpec& c) { return c.on_fail == "quarantine"; });
    if (!quarantines) continue;
    std::string q = QuarantineName(table);
    auto [it, fresh] = quarantine_owner.emplace(q, "model " + table.str());
    if (!fresh) {
      diagnostics.Add(model.where,
                      fmt::format("model {} and {} would both set rows aside in quarantine.{}",
                                  table.str(), it->second, q),
                      "rename one of them");
    }
  }
  for (const auto& [name, source] : project.sources) {
    quality::ParseCheckSpecs(source.checks, diagnostics);
  }
  // Where each table the project writes lands in the warehouse, if it does.
  struct Landing {
    project::TableName table;
    project::Destination at;
    project::Location where;  // of the job or model
  };
  std::vector<Landing> landings;
  std::map<std::string, const project::Model*> warehouse_models;  // by lower-case schema.table
  for (const auto& [name, job] : project.jobs) {
    auto d = project::WarehouseTable(project, job.output.table);
    if (d) landings.push_back({job.output.table, *d, job.where});
  }
  for (const auto& [table, model] : project.models) {
    auto d = project::WarehouseTable(project, table);
    if (d) landings.push_back({table, *d, model.where});
    if (model.in_warehouse) warehouse_models[ToLower(table.str())] = &model;
  }
  for (const auto& [t, d, where] : landings) {
    bool own = project::IsWarehouseModel(project, t);
    // The warehouse schema `sluice` holds Sluice's own tables (the load ledger, model keys).
    if (ToLower(d.schema) == "sluice") {
      diagnostics.Add(own || d.where.file.empty() ? where : d.where,
                      fmt::format("{} would be the warehouse table {}.{}: the schema sluice "
                                  "holds Sluice's own tables",
                                  t.str(), d.schema, d.table),
                      "load it into (or name the model's folder after) another schema");
    }
    // A warehouse model's table is its own: no destination may load into it.
    auto model =
        own ? warehouse_models.end() : warehouse_models.find(ToLower(d.schema + "." + d.table));
    if (model != warehouse_models.end()) {
      diagnostics.Add(d.where,
                      fmt::format("the destination of {} is {}, the table of warehouse model {}",
                                  t.str(), model->second->table.str(), model->second->where.file),
                      "load it into another table (`table:` of the destination), or rename "
                      "the model",
                      "config.duplicate_writer");
    }
  }
  ValidateSql(project, diagnostics);
}

}  // namespace sluice::transform
