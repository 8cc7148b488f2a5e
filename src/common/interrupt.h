#pragma once
#include <atomic>

// Ctrl-C and SIGTERM as a request, not a kill: the handler only sets a flag. Long work polls
// Interrupted() and stops cleanly (DuckDB statements are interrupted), so a run ends recorded
// as failed instead of staying "running", and nothing half-written is published.
namespace sluice {

// Installs handlers for SIGINT and SIGTERM. A second signal of either kind ends the process at
// once (for a user who really means it).
void InstallInterruptHandler();
// True after Ctrl-C/SIGTERM, or when the stop flag of this thread's ScopedStop is set.
bool Interrupted();
// Forgets an interrupt that has been dealt with.
void ClearInterrupt();

// Scopes a stop request to the work of one thread (a workflow step's timeout or cancellation):
// while alive, Interrupted() on this thread is also true once `flag` is set.
class ScopedStop {
 public:
  explicit ScopedStop(const std::atomic<bool>* flag);
  ~ScopedStop();
  ScopedStop(const ScopedStop&) = delete;
  ScopedStop& operator=(const ScopedStop&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

}  // namespace sluice
