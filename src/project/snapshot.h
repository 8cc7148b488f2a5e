#pragma once
// A project's definitions as one immutable, content-addressed value: the project, its workflows
// and the definition files both were built from. Hash() is over the files' bytes (see
// DefinitionFiles::Manifest), so it is the same for the same files on any machine and at any
// path, and `${env:...}` references count as written, not as their values. A run records the
// hash of the snapshot it ran; the manifest is stored under it (meta/snapshot_store.h), and
// LoadSnapshot over a DefinitionReader of the stored files builds the same snapshot again.
#include <map>
#include <string>

#include "project/definitions.h"
#include "project/project.h"
#include "project/workflow.h"

namespace sluice::project {

class Snapshot {
 public:
  Snapshot(Project project, std::map<std::string, Workflow> workflows, DefinitionFiles files);

  const Project& project() const { return project_; }
  const std::map<std::string, Workflow>& workflows() const { return workflows_; }
  const DefinitionFiles& files() const { return files_; }
  // files().Manifest(), kept: every run stores it (once per hash).
  const std::string& Manifest() const { return manifest_; }
  // Hex SHA-256 of Manifest().
  const std::string& Hash() const { return hash_; }

 private:
  Project project_;
  std::map<std::string, Workflow> workflows_;
  DefinitionFiles files_;
  std::string manifest_;
  std::string hash_;
};

// Loads the project for `env` and its workflows through `files` (Load, LoadWorkflows), keeping
// every file read. Problems go into `diagnostics`; the snapshot then holds what could be read.
Snapshot LoadSnapshot(DefinitionReader& files, const std::string& env, Diagnostics& diagnostics);

}  // namespace sluice::project
