#pragma once
// Errors are exceptions of one type that carry a kind and, where users or clients may switch on
// it, a stable code (`query.row_limit`, `api.body_too_large`). The kind decides the exit code and,
// in workflows, which retry/catch rules apply; the code is the contract that tests pin, while the
// message may improve. Messages name the place (file:line:col, table, file) and the value at fault;
// they never contain resolved secrets.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace sluice {

enum class ErrorKind {
  kUsage,        // the command line is wrong (exit 2)
  kConfig,       // the project files are wrong (exit 2)
  kInput,        // the data is wrong: unreadable file, schema drift refused (exit 1)
  kIo,           // the disk, the network or a database failed (exit 1)
  kQuality,      // a check with on_fail: fail failed (exit 3)
  kInternal,     // a bug in Sluice (exit 1)
  kInterrupted,  // the user pressed Ctrl-C or sent SIGTERM (exit 130)
  kConflict,     // a lost race: another writer changed what this one built on; try again (exit 75)
};

const char* ErrorKindName(ErrorKind kind);
int ExitCodeFor(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Error(ErrorKind kind, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
  ErrorKind kind() const { return kind_; }
  // The stable code as thrown, or "" for an error thrown without one (bugs, interruptions, and
  // what a lower layer has not coded yet): shown_code() then stands in.
  const std::string& code() const { return code_; }
  // The code users see (docs/errors.md): code(), or the kind's name (`internal`, `io`, ...) when
  // it has none.
  std::string shown_code() const { return code_.empty() ? ErrorKindName(kind_) : code_; }

 private:
  ErrorKind kind_;
  std::string code_;
};

template <typename... Args>
[[noreturn]] void Fail(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

// As Fail, with a stable code beside the message.
template <typename... Args>
[[noreturn]] void FailWithCode(ErrorKind kind, std::string code, fmt::format_string<Args...> format,
                               Args&&... args) {
  throw Error(kind, std::move(code), fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace sluice
