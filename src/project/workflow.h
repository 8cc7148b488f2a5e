#pragma once
// Workflows (`workflows/*.yaml`): the Step Functions state machines of the AWS design, started by
// triggers (a file landing, a cron schedule, another workflow) or by hand. Loading checks shape
// only; transform/orchestrator check references.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "project/project.h"

namespace sluice::project {

// Error kinds that retry and catch rules name. Every failure has exactly one.
inline const std::vector<std::string> kErrorKinds = {
    "config", "input", "io", "quality", "timeout", "interrupted", "internal", "conflict", "any"};

struct Retry {
  int attempts = 1;  // total tries of the step, the first included
  int64_t interval_ms = 1000;
  double backoff_rate = 2.0;
  int64_t max_delay_ms = 0;     // 0: no cap
  bool full_jitter = false;     // jitter: full (a uniform delay in [0, computed]) | none
  std::vector<std::string> on;  // error kinds retried; empty: every kind but config
};

struct WorkflowStep;

struct Catch {
  std::vector<std::string> errors;  // error kinds, or `any`
  std::vector<WorkflowStep> steps;
  Location where;
};

struct ChoiceRule {
  std::string when;  // an expression, e.g. "steps.clean.rows_quarantined > 0"
  std::vector<WorkflowStep> steps;
  Location where;
};

struct WorkflowStep {
  // crawl extract job model check load command notify wait pass fail parallel choice map
  // workflow
  std::string kind;
  std::string id;       // unique among its siblings: `name:`, else derived from kind and target
  std::string target;   // crawl: source; job: job; model: db.table; notify: channel;
                        // workflow: child workflow; check, load: db.table
  std::string message;  // notify, fail
  std::string error_kind = "internal";              // fail
  int64_t wait_ms = 0;                              // wait
  std::vector<CheckSpec> checks;                    // check
  std::optional<Destination> destination;           // load (target: the catalog table)
  std::vector<std::vector<WorkflowStep>> branches;  // parallel
  std::vector<ChoiceRule> choices;                  // choice
  std::vector<WorkflowStep> otherwise;              // choice
  std::string over = "files";                       // map: files | partitions | a list parameter
  int max_concurrency = 0;                          // map/parallel: 0 = unbounded
  std::vector<WorkflowStep> steps;                  // map body
  std::vector<std::pair<std::string, std::string>> params;  // workflow: child parameters
  ProgramSettings program;                                  // command
  Retry retry;
  std::vector<Catch> catches;
  int64_t timeout_ms = 0;  // 0: none
  Location where;
};

struct Trigger {
  std::string kind;    // on_arrival | schedule | after
  std::string target;  // source | cron expression | workflow
  std::string timezone = "UTC";
  std::string catch_up = "none";  // none | latest | all
  int64_t batch_window_ms = 0;
  std::string on = "success";  // after: success | failure | any
  Location where;
};

struct Workflow {
  std::string name;
  std::string description;
  std::vector<Trigger> triggers;
  std::vector<WorkflowStep> steps;
  std::vector<TableName> materialize;  // targets instead of steps
  Location materialize_where;
  std::vector<WorkflowStep> on_success, on_failure;
  int64_t timeout_ms = 0;
  int max_concurrent_runs = 0;                                  // 0: unbounded
  std::vector<std::pair<std::string, std::string>> parameters;  // name -> default
  std::string file;                                             // relative to the project root
  std::string text;  // the file as read: a run keeps it, to finish on the definition it began with
  Location where;
};

// Parses one workflow file's text (`file` names it in diagnostics).
std::optional<Workflow> ParseWorkflow(const std::string& text, const std::string& file,
                                      Diagnostics& diagnostics);

// Loads every workflows/*.yaml (and the rule files their check steps name) through `files`,
// keyed by name.
std::map<std::string, Workflow> LoadWorkflows(DefinitionReader& files, Diagnostics& diagnostics);
// LoadWorkflows from the folder `root`.
std::map<std::string, Workflow> LoadWorkflows(const fs::path& root, Diagnostics& diagnostics);

// Reads through `files` the rule files of every check step of `workflow` (at any depth): see
// ReadRuleFiles in project/reader.h.
void ReadRuleFiles(DefinitionReader& files, Workflow& workflow);

// The longest duration Sluice takes (100 years): far from overflowing when added to a time.
inline constexpr int64_t kMaxDurationMs = 36500LL * 86400000;

// Reports each cycle among workflows (names must already be known to exist): a workflow step
// leading back to a workflow that runs it (nested runs without end), and `after` triggers
// leading back to the workflow that fires them (runs starting one another without end). Each
// diagnostic names the path, e.g. "a -> b -> a", at the step or trigger that closes it.
void CheckWorkflowCycles(const std::map<std::string, Workflow>& workflows,
                         Diagnostics& diagnostics);

// "2s", "500ms", "5m", "1h", "1d", or a plain number of seconds; nullopt when not a duration
// or longer than kMaxDurationMs.
std::optional<int64_t> ParseDurationMs(const std::string& text);

}  // namespace sluice::project
