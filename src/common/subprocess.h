#pragma once
// Running another program: an argument list (no shell between), a working folder, environment
// settings on top of Sluice's own, input on stdin, its output as it comes, a time limit and a
// stop request. Notification commands and `command:` workflow steps run through it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/files.h"

namespace sluice {

struct Program {
  // argv[0] is a path, or a name looked up on PATH as a shell would.
  std::vector<std::string> argv;
  fs::path cwd;                                          // empty: this process's
  std::vector<std::pair<std::string, std::string>> env;  // set over this process's environment
  std::string input;                                     // written to stdin, which is then closed
  int64_t timeout_ms = 0;                                // 0: none
  // When it turns true (or Interrupted() on the calling thread does), the program is stopped.
  const std::atomic<bool>* stop = nullptr;
  // A stopped or timed out program gets SIGTERM, then SIGKILL after this long (0: SIGKILL at
  // once). Either goes to its whole process group: what it started goes with it.
  int64_t grace_ms = 0;
  // Its stdout (false) and stderr (true), chunk by chunk as they come; null: dropped.
  std::function<void(bool is_stderr, std::string_view data)> on_output;
};

enum class ProgramEnd {
  kExited,    // code: its exit status
  kSignaled,  // code: the signal that ended it
  kTimedOut,  // killed past timeout_ms
  kStopped,   // killed on a stop request
};

struct ProgramResult {
  ProgramEnd end = ProgramEnd::kExited;
  int code = 0;
  bool ok() const { return end == ProgramEnd::kExited && code == 0; }
};

// Runs `program` to its end. The program runs in a process group of its own; when it exits,
// whatever it started in that group and left running is killed. Throws Error(kConfig,
// command.not_found) when argv[0] cannot be found or run (missing, not executable; the message
// names it and the folder it ran in), and Error(kIo, command.spawn) when the process cannot be
// started for another reason (no pipes, no processes left). The calling thread ignores SIGPIPE
// while it writes the input.
ProgramResult RunProgram(const Program& program);

}  // namespace sluice
