#include "transform/workspace.h"

#include "catalog/catalog.h"
#include "common/error.h"
#include "lake/open.h"
#include "meta/metastore.h"
#include "transform/validate.h"

namespace sluice::transform {

namespace {
void LoadDefinitions(Workspace& ws, const fs::path& root, const std::string& env) {
  project::Diagnostics diagnostics;
  ws.project = project::Load(root, env, diagnostics);
  ws.workflows = project::LoadWorkflows(root, diagnostics);
  Validate(ws.project, diagnostics);
  diagnostics.ThrowIfAny();
}
}  // namespace

Workspace Workspace::Reload() const {
  Workspace ws;
  LoadDefinitions(ws, project.root, project.env.name);
  ws.store = store;
  ws.metastore = metastore;
  return ws;
}

Workspace Workspace::Open(const fs::path& root, const std::string& env) {
  Workspace ws;
  LoadDefinitions(ws, root, env);
  if (char c = catalog::PatternCharacter(fs::absolute(ws.project.env.lake).string())) {
    FailWithCode(ErrorKind::kConfig, "config.lake_path",
                 "the lake folder {} holds '{}', which DuckDB reads as a file pattern\n  hint: set "
                 "`lake:` for environment {} to a folder without *, ? or [",
                 ws.project.env.lake.string(), c, env);
  }
  ws.store = lake::Open(ws.project.env.lake.string());
  ws.metastore = meta::Open(ws.project.env.metastore.string());
  // What a killed process left: its runs end failed, its scratch files go.
  ws.metastore->FailAbandonedRuns();
  ws.store->RemoveAbandonedScratch();
  return ws;
}

}  // namespace sluice::transform
