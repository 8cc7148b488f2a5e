#pragma once
// Workflows resolved against the rest of the project ("plan" is kept for `sluice plan` of
// deployments): references that must exist, schedules and
// conditions that must parse, and the steps a `materialize:` workflow stands for.
#include <vector>

#include "project/workflow.h"
#include "transform/workspace.h"

namespace sluice::orchestrator {

// Adds a diagnostic (file:line:col, with the nearest name) for every reference a workflow makes
// to something the project lacks, every cron or time zone that does not parse, and every choice
// condition that does not parse.
void ValidateWorkflows(const transform::Workspace& ws, project::Diagnostics& diagnostics);

// Adds the settings of command steps that name an unset ${env:...}: validate reports them; the
// step refuses to run until they are set, and nothing else needs them.
void CheckCommandSecrets(const transform::Workspace& ws, project::Diagnostics& diagnostics);

// The steps that build `targets`: crawls of the sources they read from, then the jobs and models
// upstream of them, in dependency order.
std::vector<project::WorkflowStep> MaterializeSteps(const project::Project& project,
                                                    const std::vector<project::TableName>& targets);

// The workflow as it runs: `materialize` expanded into steps.
project::Workflow Expand(const project::Project& project, project::Workflow workflow);

}  // namespace sluice::orchestrator
