#pragma once
// The `checks:` of jobs, models, sources and workflow check steps, as rules: rule texts, `Rules =
// [ ... ]` sets and `.dqdl` files, each rule carrying its entry's on_fail.
#include <vector>

#include "project/project.h"
#include "quality/rules.h"

namespace sluice::quality {

// Parses `checks` (a rule file's text as the project loaded it: CheckSpec::file_text); every error
// goes into `diagnostics` with its place: the rule file's line and column, or the YAML entry, or
// why the rule file could not be read. A whole-table rule cannot quarantine.
std::vector<Rule> ParseCheckSpecs(const std::vector<project::CheckSpec>& checks,
                                  project::Diagnostics& diagnostics);

}  // namespace sluice::quality
