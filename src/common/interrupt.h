#pragma once
// Ctrl-C and SIGTERM as a request, not a kill: the handler only sets a flag. Long work polls
// Interrupted() and stops cleanly (DuckDB statements are interrupted), so a run ends recorded
// as failed instead of staying "running", and nothing half-written is published.
namespace sluice {

// Installs handlers for SIGINT and SIGTERM. A second signal of either kind ends the process at
// once (for a user who really means it).
void InstallInterruptHandler();
bool Interrupted();
// Forgets an interrupt that has been dealt with.
void ClearInterrupt();

}  // namespace sluice
