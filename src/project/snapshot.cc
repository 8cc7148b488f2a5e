#include "project/snapshot.h"

#include <utility>

namespace sluice::project {

Snapshot::Snapshot(Project project, std::map<std::string, Workflow> workflows,
                   DefinitionFiles files)
    : project_(std::move(project)),
      workflows_(std::move(workflows)),
      files_(std::move(files)),
      manifest_(files_.Manifest()),
      hash_(Sha256Hex(manifest_)) {}

Snapshot LoadSnapshot(DefinitionReader& files, const std::string& env, Diagnostics& diagnostics) {
  Project project = Load(files, env, diagnostics);
  auto workflows = LoadWorkflows(files, diagnostics);
  return Snapshot(std::move(project), std::move(workflows), files.files());
}

}  // namespace sluice::project
