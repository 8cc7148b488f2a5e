#pragma once
#include <cstdint>
#include <string>

namespace sluice {

// Milliseconds since the Unix epoch, from the system clock.
int64_t NowMs();
// RFC 3339 in UTC with milliseconds: 2026-11-22T13:56:01.123Z.
std::string Rfc3339(int64_t epoch_ms);
// A monotonic clock for durations.
int64_t MonotonicMs();

}  // namespace sluice
