#pragma once
// A loaded project with its environment's lake and metastore open.
#include <functional>
#include <memory>
#include <string>

#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"

namespace sluice::transform {

struct Workspace {
  project::Project project;
  std::unique_ptr<lake::Store> store;
  std::unique_ptr<meta::Metastore> metastore;

  // Loads the project at `root` for `env` and opens its backends. Config problems throw
  // sluice::Error(kConfig) listing every one (run Validate first for the full picture).
  static Workspace Open(const fs::path& root, const std::string& env);
};

// Options every run takes.
struct RunOptions {
  std::string trigger = "manual";
  // Called with a percentage while long statements run (null: no progress).
  std::function<void(const std::string& what, double percent)> progress;
};

// The lake folder of a table: landing/<source>, staging/<t> for silver, curated/<t> for gold,
// quarantine/<t>, and <db>/<t> for other databases.
std::string TablePrefix(const std::string& db, const std::string& name);

}  // namespace sluice::transform
