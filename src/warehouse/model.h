#pragma once
// Models that run in the warehouse (`materialized: warehouse` in a model's settings file): ELT,
// the transform done by the warehouse over the tables loaded into it.
#include "project/project.h"
#include "transform/run.h"
#include "transform/workspace.h"

namespace sluice::warehouse {

// Runs the warehouse model `model` in the environment's warehouse: its SQL, each {{ ref() }}
// replaced by the warehouse table it reads (project::WarehouseTable), creates a table of a
// staging name in the schema named by the model's database, which then replaces
// <db>.<name> in the same transaction: readers see the old table or the new one, never none or a
// part. Nothing is left of a failed or killed run. The run is recorded in the metastore as a
// model's (its report has no catalog version: the table is not in the lake).
//
// Throws sluice::Error: input.not_in_warehouse for a table it reads that is not in the warehouse
// yet, naming the reference's place in the model file; input.sql for SQL the warehouse refuses,
// naming the model file; the warehouse's own errors (warehouse.*) otherwise.
transform::RunReport RunWarehouseModel(transform::Workspace& ws, const project::Model& model,
                                       const transform::RunOptions& options);

// Runs `model` where it lives: RunWarehouseModel for a warehouse model, transform::RunModel for
// a lake one.
transform::RunReport RunAnyModel(transform::Workspace& ws, const project::Model& model,
                                 const transform::RunOptions& options);

// Whether the run of a job ("job", its name) or a model ("model", db.table) uses the warehouse:
// it declares a `destination:`, or it is a warehouse model.
bool UsesWarehouse(const project::Project& project, const std::string& kind,
                   const std::string& name);

}  // namespace sluice::warehouse
