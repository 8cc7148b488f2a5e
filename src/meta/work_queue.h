#pragma once
// meta::WorkQueue: workflow runs waiting for a process to run them, and the moves between
// queued, running, cancelled and failed that the queue decides.
//
// Contract, for every backend:
// - Each call is one transaction; each state move is one conditional write, so two processes
//   racing for one run cannot both win: the loser is told (false), nothing else changes.
// - A missing run: ClaimRun/RedriveRun answer false, RequestCancel nullopt, RequeueRun does
//   nothing.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call any method at any time.
#include <cstdint>
#include <optional>
#include <string>

#include "meta/records.h"

namespace sluice::meta {

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Records `run` as queued and returns its id.
  virtual int64_t EnqueueRun(const Run& run) = 0;
  // queued -> running for `owner`; false when someone
  // else claimed it first (or it was cancelled): exactly one of several claimers gets true.
  virtual bool ClaimRun(int64_t id, const std::string& owner) = 0;
  // running -> queued (a stopped server's run, to resume at the next start).
  virtual void RequeueRun(int64_t id) = 0;
  // A queued run ends cancelled at once; a running one gets cancel_requested. Returns the run
  // after the change (nullopt: no such run).
  virtual std::optional<Run> RequestCancel(int64_t id) = 0;
  // A failed or cancelled workflow run goes back to the queue to run again from the steps that
  // failed (steps that succeeded stay done); with `definitions`, it runs those from now on (its
  // workflow text and snapshot are replaced in the same write). Its containers (parallel, choice,
  // map, workflow) carry on where their children were, their times counting afresh from now.
  // False when the run is not failed or cancelled.
  virtual bool RedriveRun(int64_t id, const std::optional<RunDefinitions>& definitions) = 0;
};

}  // namespace sluice::meta
