#pragma once
// Rules outside jobs: `sluice check TABLE` evaluates a table's DQDL rule set as a run of its own,
// storing each rule's outcome, observed value and threshold (the history that dynamic thresholds
// and `sluice quality` read).
#include <string>
#include <vector>

#include "project/project.h"
#include "quality/rules.h"
#include "transform/workspace.h"

namespace sluice::transform {

// Reads a DQDL file (`Rules = [ ... ]`); parse errors name the file, line and column and what was
// expected (sluice::Error kConfig). `on_fail` applies to every rule.
std::vector<quality::Rule> ReadRuleFile(const fs::path& path, const std::string& shown_as,
                                        const std::string& on_fail = "fail");

// The rules of `table`: `rules_file` alone when given, else the project's
// checks/<db>.<name>.dqdl and the checks declared by the job or model writing the table (each
// rule once, with its on_fail). Throws kUsage when there is none, saying where to write them.
std::vector<quality::Rule> TableRules(const Workspace& ws, const project::TableName& table,
                                      const std::string& rules_file);

struct CheckReport {
  int64_t run_id = 0;
  std::vector<meta::CheckResult> results;
  int64_t duration_ms = 0;
  bool failed() const;  // a rule with on_fail: fail failed or could not be evaluated
};

// Judges a run's new rows before they are published: rules with on_fail fail or warn evaluated
// over `batch` (a table expression), then each quarantining rule with the number of rows of
// `quarantine` (a table with a `_reason` column, see set_aside.h; "" for none) it set aside.
std::vector<meta::CheckResult> JudgeBatch(engine::Connection& conn, const std::string& batch,
                                          const std::string& output,
                                          const std::vector<quality::Rule>& rules,
                                          const quality::History& history,
                                          const std::string& quarantine);

// Evaluates `rules` on catalog table `table` (its Parquet footers settling what they can), with
// the history of earlier runs of kind `check`. Records nothing.
std::vector<meta::CheckResult> EvaluateTable(Workspace& ws, const project::TableName& table,
                                             const std::vector<quality::Rule>& rules);

// Evaluates `rules` on `table` as a run of kind `check`, recorded with its results.
CheckReport CheckTable(Workspace& ws, const project::TableName& table,
                       const std::vector<quality::Rule>& rules, const std::string& trigger);

}  // namespace sluice::transform
