#pragma once
// Who runs what: a run records the process that runs it, so that a later process can tell a run
// whose process died (kill -9, power loss) from one still going, and end or resume it.
#include <string>

namespace sluice {

// "host:pid:start" for this process (start: its start time in clock ticks since boot, so a
// reused pid does not pass for the old process).
const std::string& ProcessOwner();

// Whether the process `owner` names still runs. Owners on another host count as alive (their
// runs are theirs to finish); an empty owner counts as dead.
bool OwnerAlive(const std::string& owner);

}  // namespace sluice
