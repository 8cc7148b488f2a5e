#pragma once
// What extraction runs (src/extract/) leave to finish after a crash: a run that committed lands
// its files here, one that did not has its staged bytes deleted (meta/extract_state.h).
#include <cstdint>
#include <string>
#include <vector>

#include "lake/store.h"
#include "meta/extract_state.h"

namespace sluice::catalog {

struct ExtractRecovery {
  int64_t landed = 0;     // committed files moved from staging to landing
  int64_t discarded = 0;  // staged files of dead processes deleted
  // Landing keys of committed files whose bytes were neither staged nor landed (the lake lost
  // them; their records come again only with --full-refresh). With report_lost they are then
  // forgotten, so whoever reports them does so once; without, they stay for one who reports.
  std::vector<std::string> lost;
};

// For `source` ("" every source): moves each committed file to its landing key (a file already
// there counts as landed) and forgets it; deletes each staged file whose process is gone (common/
// process.h) and forgets it. Files staged by live processes stay. Two processes calling it at
// once do each file once. Failures of the lake or the metastore throw as theirs.
ExtractRecovery FinishExtractFiles(lake::Store& store, meta::ExtractState& state,
                                   const std::string& source = "", bool report_lost = true);

}  // namespace sluice::catalog
