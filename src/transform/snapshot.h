#pragma once
// Snapshots (`materialized: snapshot`): a lake table that keeps SCD type 2 history of the rows a
// model's SQL returns, as dbt's snapshots do. Each row version has the SQL's columns plus
// valid_from and valid_to (TIMESTAMP, UTC; valid_to NULL while the version is current).
#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "project/project.h"

namespace sluice::transform {

struct SnapshotPlan {
  std::string sql;  // the snapshot table's rows after this run (one SELECT)
  int64_t opened = 0, changed = 0, ended = 0;  // keys new, changed, gone (with invalidation)
  bool changes() const { return opened + changed + ended > 0; }
};

// Plans a snapshot run of `model` whose compiled SQL is `source`, on `conn` (with the catalog
// attached, the model's table included when `exists`). The source's rows are kept in the temp
// table _snapshot_source of `conn`. A key whose `updated_at` grew, or (with check_columns) whose
// compared values differ, gets its current version ended at the new version's valid_from: the
// row's updated_at, or `now_ms` with check_columns. With invalidate_hard_deletes a key the source
// no longer has ends at `now_ms`.
//
// Throws sluice::Error naming the model file: input.null_key or input.duplicate_key when the
// source does not hold each unique_key once; config.output_mismatch for a key, updated_at or
// check column the source lacks, or a source column named valid_from or valid_to.
SnapshotPlan PlanSnapshot(engine::Connection& conn, const project::Model& model,
                          const std::string& source, bool exists, int64_t now_ms);

}  // namespace sluice::transform
