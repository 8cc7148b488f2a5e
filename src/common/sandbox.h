#pragma once
// Work that must not write: run in a child process that the kernel (Landlock) keeps to reading
// a few folders and writing one scratch folder. `sluice query` runs its SQL this way, so that no
// statement that slips past the statement check can change the lake.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sluice {

// What the child may touch. Paths are resolved (symlinks followed) before the rules are made:
// a rule covers the folder a path really is, and a link inside a readable folder that points
// elsewhere leads to nothing readable.
struct SandboxPolicy {
  std::vector<std::filesystem::path> read;  // readable beneath (files and listings)
  std::filesystem::path scratch;            // readable and writable beneath; created if missing
  int64_t timeout_ms = 0;                   // 0: no limit
};

// The Landlock ABI version this kernel offers, 0 when it has none (too old, or disabled).
int LandlockAbi();

// Runs `body` in a forked child restricted by `policy`, and waits for it. Contract:
// - The child restricts itself (no new privileges, then Landlock: read under `read` and the
//   system's library folders, read and write under `scratch`, no TCP where the ABI has it)
//   before `body` runs, so anything `body` starts (DuckDB and its threads) is restricted too.
//   Only the calling thread is copied into the child: `body` must not rely on other threads.
// - The child's stdout and stderr are this process's; `body` prints its answer there.
// - A sluice::Error thrown by `body` comes back here and is rethrown with its kind, code and
//   text; any other exception becomes kInternal. A child that dies otherwise is kInternal.
// - On Ctrl-C/SIGTERM (Interrupted()) the child is killed and kInterrupted is thrown; past
//   `timeout_ms` it is killed and kTimedOut returned (the caller names the limit).
// - Where the kernel has no Landlock, `body` runs in the child without it, after a warning on
//   stderr (warning[sandbox.unavailable]).
enum class SandboxEnd { kDone, kTimedOut };
SandboxEnd RunSandboxed(const SandboxPolicy& policy, const std::function<void()>& body);

}  // namespace sluice
