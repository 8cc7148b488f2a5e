#include "transform/workspace.h"

#include "catalog/catalog.h"
#include "catalog/extracted.h"
#include "common/error.h"
#include "lake/open.h"
#include "meta/metastore.h"
#include "transform/validate.h"

namespace sluice::transform {

namespace {
void LoadDefinitions(Workspace& ws, project::DefinitionReader& files, const std::string& env) {
  project::Diagnostics diagnostics;
  auto snapshot =
      std::make_shared<const project::Snapshot>(project::LoadSnapshot(files, env, diagnostics));
  Validate(snapshot->project(), diagnostics);
  diagnostics.ThrowIfAny();
  ws.project = snapshot->project();
  ws.workflows = snapshot->workflows();
  ws.snapshot = std::move(snapshot);
}
}  // namespace

Workspace Workspace::Reload() const {
  Workspace ws;
  project::DefinitionReader files(project.root);
  LoadDefinitions(ws, files, project.env.name);
  ws.store = store;
  ws.metastore = metastore;
  return ws;
}

Workspace Workspace::At(const std::string& hash) const {
  if (snapshot && snapshot->Hash() == hash) return *this;
  auto manifest = metastore->GetSnapshot(hash);
  if (!manifest) {
    FailWithCode(ErrorKind::kConfig, "snapshot.missing",
                 "no stored definitions {} in the metastore\n  hint: a run records the hash of "
                 "the definitions it ran; they are stored with the run's metastore",
                 hash);
  }
  Workspace ws;
  project::DefinitionReader files(project.root,
                                  std::make_shared<const project::DefinitionFiles>(
                                      project::DefinitionFiles::FromManifest(*manifest)));
  LoadDefinitions(ws, files, project.env.name);
  ws.store = store;
  ws.metastore = metastore;
  return ws;
}

std::string RecordSnapshot(const Workspace& ws) {
  if (!ws.snapshot) return "";
  ws.metastore->PutSnapshot(ws.snapshot->Hash(), ws.snapshot->Manifest());
  return ws.snapshot->Hash();
}

Workspace Workspace::Open(const fs::path& root, const std::string& env) {
  Workspace ws;
  project::DefinitionReader files(root);
  LoadDefinitions(ws, files, env);
  if (char c = catalog::PatternCharacter(fs::absolute(ws.project.env.lake).string())) {
    FailWithCode(ErrorKind::kConfig, "config.lake_path",
                 "the lake folder {} holds '{}', which DuckDB reads as a file pattern\n  hint: set "
                 "`lake:` for environment {} to a folder without *, ? or [",
                 ws.project.env.lake.string(), c, env);
  }
  ws.store = lake::Open(ws.project.env.lake.string());
  ws.metastore = meta::Open(project::MetastoreUri(ws.project.env));
  // What a killed process left: its runs end failed, the files of an extraction it committed
  // land, what it staged or wrote to scratch goes.
  ws.metastore->FailAbandonedRuns();
  catalog::FinishExtractFiles(*ws.store, *ws.metastore, "", /*report_lost=*/false);
  ws.store->RemoveAbandonedScratch();
  return ws;
}

}  // namespace sluice::transform
