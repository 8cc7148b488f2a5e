#pragma once
// Exit codes of commands that were done (failures exit by their ErrorKind: common/error.h).

namespace sluice {

// The exit code of a command that was done but has something to look at: rows or files kept out
// (`crawl`, `run`, `landing release`), changes (`plan`). Failures keep their own codes, which win.
inline constexpr int kExitChanges = 4;

// The exit code of a command that was done: 0, or kExitChanges when `detailed`
// (--detailed-exitcode) and it has something to look at.
constexpr int DoneExitCode(bool detailed, bool something_to_look_at) {
  return detailed && something_to_look_at ? kExitChanges : 0;
}

}  // namespace sluice
