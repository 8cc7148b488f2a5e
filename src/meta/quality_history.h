#pragma once
// meta::QualityHistory: the check results of past runs, read back for dynamic thresholds and the
// quality pages. Its own role beside RunLog (which writes the results with each run), because
// its readers (quality/, the API) need nothing else of the run log.
//
// Contract, for every backend:
// - Reads only; a table or rule never checked answers an empty list.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <cstddef>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class QualityHistory {
 public:
  virtual ~QualityHistory() = default;

  // A rule's numeric results on a table, newest first (at most n). Only succeeded runs of kind
  // `kind` count (a rejected batch must not lower the bar).
  virtual std::vector<double> RuleHistory(const std::string& table, const std::string& rule,
                                          size_t n, const std::string& kind) = 0;
  // Every result of the table's last `runs` runs that checked it, oldest first.
  virtual std::vector<CheckHistoryEntry> CheckHistory(const std::string& table, size_t runs) = 0;
};

}  // namespace sluice::meta
