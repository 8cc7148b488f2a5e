#pragma once
// A loaded project with its environment's lake and metastore open.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"
#include "project/snapshot.h"
#include "project/workflow.h"
#include "transform/backfill.h"

namespace sluice::transform {

// Copies share the backends: a server keeps one snapshot of the definitions per run, so runs in
// flight finish on the definitions they started with when the project is reloaded.
struct Workspace {
  // The definitions, immutable and content-addressed; null only in a Workspace built by hand (a
  // test), whose runs then record no snapshot.
  std::shared_ptr<const project::Snapshot> snapshot;
  // The snapshot's project and workflows, as the many readers use them.
  project::Project project;
  std::map<std::string, project::Workflow> workflows;
  std::shared_ptr<lake::Store> store;
  std::shared_ptr<meta::Metastore> metastore;

  // Loads the project at `root` for `env` and opens its backends. Config problems throw
  // sluice::Error(kConfig) listing every one (run Validate first for the full picture). Then
  // cleans up after processes of this host that died: their crawl/job/model runs end failed
  // (meta::Metastore::FailAbandonedRuns) and their scratch folders are removed.
  static Workspace Open(const fs::path& root, const std::string& env);
  // Loads the project again, keeping the backends (a server's SIGHUP): a new snapshot.
  Workspace Reload() const;
  // The definitions stored under `hash` (the snapshot a run recorded), with the same backends,
  // root and environment. Throws sluice::Error(kConfig), code snapshot.missing, when the
  // metastore holds no such snapshot, and as Open when the stored definitions do not load.
  Workspace At(const std::string& hash) const;
};

// Stores the snapshot of `ws` in its metastore (once per hash) and returns its hash, for a run
// about to be recorded; "" for a Workspace without a snapshot.
std::string RecordSnapshot(const Workspace& ws);

// Options every run takes.
struct RunOptions {
  std::string trigger = "manual";
  // Called with a percentage while long statements run (null: no progress).
  std::function<void(const std::string& what, double percent)> progress;
  // Called with the run's id as soon as it is recorded (a workflow step notes its child run).
  std::function<void(int64_t run_id)> on_start;
  // A job reads every file of its input, whatever its bookmarks, and rebuilds its output from
  // them alone; its bookmarks become those files. A model rebuilds its table on every run anyway.
  bool full_refresh = false;
  // A backfill: a job recomputes the output partitions in this range from every file of its
  // input and replaces exactly those, leaving its bookmarks as they are.
  std::optional<PartitionRange> partitions;
};

}  // namespace sluice::transform
