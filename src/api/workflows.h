#pragma once
// The JSON of a workflow definition as the HTTP API lists it (GET /api/workflows).
#include <nlohmann/json.hpp>

#include "project/workflow.h"

namespace sluice::api {

// name, description, file, triggers [{kind, target, ...}], steps (their count), parameters
// (defaults, redacted), materialize.
nlohmann::json WorkflowJson(const project::Workflow& workflow);

}  // namespace sluice::api
