#include "cli/support.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/time.h"
#include "orchestrator/workflow_resolve.h"

namespace sluice::cli {

fs::path Root(const Global& g) { return project::FindRoot(g.dir.empty() ? "." : g.dir); }

transform::Workspace Open(const Global& g) {
  auto ws = transform::Workspace::Open(Root(g), g.env);
  project::Diagnostics diagnostics;
  orchestrator::ValidateWorkflows(ws, diagnostics);
  diagnostics.ThrowIfAny();
  return ws;
}

project::TableName TableArg(const std::string& text) {
  auto t = project::TableName::Parse(text);
  if (!t)
    FailWithCode(ErrorKind::kUsage, "usage.table_name",
                 "'{}' is not a table name; write it as db.table", text);
  return *t;
}

std::vector<std::string> SourceNames(const transform::Workspace& ws) {
  std::vector<std::string> names;
  for (const auto& [name, source] : ws.project.sources) names.push_back(name);
  return names;
}

project::TableName CatalogTable(const transform::Workspace& ws, const std::string& text) {
  auto table = TableArg(text);
  if (!ws.metastore->GetTable(table.db, table.name)) {
    FailWithCode(ErrorKind::kUsage, "usage.unknown_table",
                 "no table {} in the catalog; `sluice catalog` lists them", table.str());
  }
  return table;
}

std::string Time(int64_t ms) { return ms ? Rfc3339(ms) : ""; }

std::string Duration(int64_t ms) {
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60000) return fmt::format("{:.1f} s", ms / 1000.0);
  return fmt::format("{}m{:02}s", ms / 60000, (ms / 1000) % 60);
}

}  // namespace sluice::cli
