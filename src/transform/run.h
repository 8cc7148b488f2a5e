#pragma once
// Running jobs and models: each run reads its inputs, writes its output and quarantine, and
// publishes them together with its bookmarks and check results in one metastore commit.
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "meta/metastore.h"
#include "project/project.h"
#include "quality/rules.h"
#include "transform/workspace.h"

namespace sluice::transform {

struct RunReport {
  std::string kind, name;  // job | model, and its name
  int64_t run_id = 0;
  meta::RunStatus status = meta::RunStatus::kRunning;  // succeeded at the end
  std::string message;  // one line for people, e.g. "no new files since the last run"
  std::string output;   // the table written
  int64_t version = 0;  // its new version (0: unchanged)
  int64_t rows_in = 0, rows_out = 0, rows_quarantined = 0, files_read = 0;
  int64_t rows_filtered = 0, rows_deduplicated = 0;
  int64_t rows_left_out = 0;       // rows an `sql` step did not pass on
  int64_t rows_outside_range = 0;  // a backfill: rows whose output partition is not in its range
  std::map<std::string, int64_t> quarantine_reasons;
  std::vector<meta::CheckResult> checks;
  int64_t duration_ms = 0;
  // A row or a file was quarantined: files kept out whole count as one record each
  // (`sluice run --detailed-exitcode` exits 4).
  bool kept_out() const { return rows_quarantined > 0; }
};

// The SQL a job's steps compile to, over the relation `input` (a table expression with an
// `_sluice_file` column, see catalog::ScanOptions): the rows in play, with their data and
// `_sluice_file`. Rows that steps drop or quarantine are handed to the SQL function
// sluice_set_aside (an engine::RowCapture), which must be registered on `conn`. Binding errors
// name the step's file:line:col. With a `range` (a backfill), rows whose output partition is
// outside it are set aside as "drop:range" before the checks.
std::string CompileJob(engine::Connection& conn, const project::Job& job,
                       const std::vector<quality::Rule>& rules, const std::string& input,
                       const PartitionRange* range = nullptr);

// Runs one job. Failures are recorded as a failed run and rethrown as sluice::Error (a failing
// `on_fail: fail` check as kQuality).
RunReport RunJob(Workspace& ws, const project::Job& job, const RunOptions& options);
RunReport RunModel(Workspace& ws, const project::Model& model, const RunOptions& options);

}  // namespace sluice::transform
