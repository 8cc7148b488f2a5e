#pragma once
// meta::Triggers: what starts workflows by itself — files that arrived, and the fire times of
// schedules — kept so that each arrival and each fire time starts work exactly once, however
// many servers watch.
//
// Contract, for every backend:
// - Each call is one transaction.
// - A workflow or trigger never seen answers an empty set / nullopt.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call any method at any time; the exactly-once promises below
//   hold across processes.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class Triggers {
 public:
  virtual ~Triggers() = default;

  // For an arrival trigger: in one transaction, records the keys of `keys` that `workflow` has
  // not seen yet and, when there is any, queues `run` with `params(fresh_keys)`. Returns the run
  // id (0 when every key was seen before). Each key starts work exactly once: of two callers
  // with the same key one gets the run, the other 0; a call retried after an error whose
  // transaction did commit answers 0.
  virtual int64_t EnqueueArrivals(
      const std::string& workflow, const std::vector<std::string>& keys, Run run,
      const std::function<std::string(const std::vector<std::string>&)>& params) = 0;
  virtual std::set<std::string> ArrivedKeys(const std::string& workflow) = 0;

  // The last fire time a schedule trigger handled (nullopt: never ran).
  virtual std::optional<int64_t> ScheduleMark(const std::string& workflow,
                                              const std::string& trigger) = 0;
  // Fires a schedule: in one transaction, moves its mark to `fire_ms` where the caller read
  // `previous` (nullopt: no mark yet) and queues `runs` (the fire times due; none when the mark
  // only moves on). Returns the queued runs' ids, in order. Compare-and-set: when the mark is no
  // longer `previous` (another server fired those times first) nothing changes, no run is
  // queued, and the answer is nullopt. So each fire time queues its runs exactly once across
  // every server; a call retried after an error whose transaction did commit answers nullopt.
  virtual std::optional<std::vector<int64_t>> FireSchedule(const std::string& workflow,
                                                           const std::string& trigger,
                                                           std::optional<int64_t> previous,
                                                           int64_t fire_ms,
                                                           const std::vector<Run>& runs) = 0;
};

}  // namespace sluice::meta
