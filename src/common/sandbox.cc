#include "common/sandbox.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>

#include "common/error.h"
#include "common/interrupt.h"

namespace sluice {

namespace {

// The ruleset attribute as the kernel reads it today; Debian 12's header stops at the first
// field. The size passed tells the kernel which fields this caller knows (see ABI below).
struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;  // ABI 4
  uint64_t scoped = 0;              // ABI 6
};

// Access rights newer than the header's.
constexpr uint64_t kFsTruncate = 1ULL << 14;  // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;  // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0, kNetConnectTcp = 1ULL << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0, kScopeSignal = 1ULL << 1;

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

// Every filesystem right the running kernel knows: what the ruleset does not handle stays
// allowed, so the list must be complete for its ABI.
uint64_t HandledFs(int abi) {
  uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= kFsTruncate;
  if (abi >= 5) fs |= kFsIoctlDev;
  return fs;
}

// Adds "`access` beneath `path`" (or on the file `path`). A path that does not exist is
// skipped: a system folder some distributions lack grants nothing.
bool AddPath(int ruleset, const std::filesystem::path& path, uint64_t access, int abi) {
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  struct stat st {};
  fstat(fd, &st);
  landlock_path_beneath_attr rule{};
  rule.allowed_access = access & HandledFs(abi);
  // Rights that only mean something on folders are refused on a file.
  if (!S_ISDIR(st.st_mode)) {
    rule.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                           LANDLOCK_ACCESS_FS_READ_FILE | kFsTruncate | kFsIoctlDev;
  }
  rule.parent_fd = fd;
  long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  close(fd);
  return rc == 0;
}

// Restricts this process (which has one thread) for good. Returns "" or what failed.
std::string Restrict(const SandboxPolicy& policy, int abi) {
  RulesetAttr attr;
  attr.handled_access_fs = HandledFs(abi);
  size_t size = sizeof(uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;  // no rule: no TCP at all
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    size = sizeof(RulesetAttr);
  }
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) return std::string("landlock_create_ruleset: ") + std::strerror(errno);
  bool ok = true;
  // Shared libraries and the time zone database, read and mapped as code.
  for (const char* system : {"/usr", "/lib", "/lib64", "/etc/ld.so.cache"}) {
    ok = ok && AddPath(ruleset, system, kRead | LANDLOCK_ACCESS_FS_EXECUTE, abi);
  }
  // What DuckDB reads to size itself (memory and CPU limits of this cgroup).
  for (const char* sizing : {"/proc/self/cgroup", "/proc/meminfo", "/proc/cpuinfo",
                             "/sys/fs/cgroup", "/sys/devices/system/cpu"}) {
    ok = ok && AddPath(ruleset, sizing, kRead, abi);
  }
  ok = ok && AddPath(ruleset, "/dev/null", kRead | LANDLOCK_ACCESS_FS_WRITE_FILE, abi);
  ok = ok && AddPath(ruleset, "/dev/urandom", kRead, abi);
  for (const auto& path : policy.read) ok = ok && AddPath(ruleset, path, kRead, abi);
  ok = ok && AddPath(ruleset, policy.scratch, HandledFs(abi) & ~LANDLOCK_ACCESS_FS_EXECUTE, abi);
  std::string error;
  if (!ok) error = std::string("landlock_add_rule: ") + std::strerror(errno);
  if (error.empty() && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    error = std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
  }
  if (error.empty() && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    error = std::string("landlock_restrict_self: ") + std::strerror(errno);
  }
  close(ruleset);
  return error;
}

void WriteAll(int fd, const std::string& data) {
  for (size_t at = 0; at < data.size();) {
    ssize_t n = write(fd, data.data() + at, data.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone: nobody is left to tell
    at += static_cast<size_t>(n);
  }
}

// Ends the child: flushes what it printed, sends `message` (an error travels as
// "<kind>\0<code>\0<text>"; nothing means success), and exits without running destructors of
// what the parent owns.
[[noreturn]] void Finish(int report, int code, const std::string& message) {
  std::cout.flush();
  std::cerr.flush();
  WriteAll(report, message);
  close(report);
  _exit(code);
}

// The child's side: restrict, run, report.
[[noreturn]] void RunChild(const SandboxPolicy& policy, const std::function<void()>& body, int abi,
                           int report, pid_t parent) {
  auto finish = [&](int code, const std::string& message) { Finish(report, code, message); };
  // A parent that dies (kill -9) takes the query with it rather than leave it running alone.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) Finish(report, 1, "");
  auto encode = [](ErrorKind kind, const std::string& code, const std::string& text) {
    return std::to_string(static_cast<int>(kind)) + '\0' + code + '\0' + text;
  };
  if (abi > 0) {
    std::string failed = Restrict(policy, abi);
    if (!failed.empty()) {
      finish(1, encode(ErrorKind::kInternal, "sandbox.failed",
                       "cannot confine the query process: " + failed));
    }
  }
  try {
    body();
  } catch (const Error& e) {
    finish(1, encode(e.kind(), e.code(), e.what()));
  } catch (const std::exception& e) {
    finish(1, encode(ErrorKind::kInternal, "", e.what()));
  }
  Finish(report, 0, "");
}

}  // namespace

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

SandboxEnd RunSandboxed(const SandboxPolicy& policy, const std::function<void()>& body) {
  std::error_code ec;
  std::filesystem::create_directories(policy.scratch, ec);
  if (ec)
    FailWithCode(ErrorKind::kIo, "io.sandbox", "cannot create {}: {}", policy.scratch.string(),
                 ec.message());
  SandboxPolicy resolved;
  for (const auto& path : policy.read) {
    resolved.read.push_back(std::filesystem::weakly_canonical(path));
  }
  resolved.scratch = std::filesystem::canonical(policy.scratch);
  int abi = LandlockAbi();
  if (abi == 0) {
    std::cerr << "warning[sandbox.unavailable]: this kernel offers no Landlock: the query runs "
                 "without the operating system's write barrier, behind the statement check "
                 "alone\n";
    std::cerr.flush();
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    FailWithCode(ErrorKind::kIo, "io.sandbox", "pipe: {}", std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    FailWithCode(ErrorKind::kIo, "io.sandbox", "fork: {}", std::strerror(errno));
  }
  if (child == 0) {
    close(fds[0]);
    RunChild(resolved, body, abi, fds[1], parent);
  }
  close(fds[1]);
  auto started = std::chrono::steady_clock::now();
  std::string report;
  int status = 0;
  bool reaped = false, timed_out = false, interrupted = false;
  // Reads the report as it comes (a long message must not block the child on a full pipe),
  // and watches the clock and the user between reads.
  while (!reaped) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char buffer[4096];
      ssize_t n = read(fds[0], buffer, sizeof(buffer));
      if (n > 0) report.append(buffer, static_cast<size_t>(n));
    }
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      reaped = true;
      break;
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
    timed_out = policy.timeout_ms > 0 && elapsed > policy.timeout_ms;
    interrupted = Interrupted();
    if (timed_out || interrupted) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      reaped = true;
    }
  }
  // What the child wrote before it ended.
  for (char buffer[4096];;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    report.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (interrupted) throw Error(ErrorKind::kInterrupted, "interrupted by the user");
  if (timed_out) return SandboxEnd::kTimedOut;
  if (!report.empty()) {
    size_t a = report.find('\0'), b = report.find('\0', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      Fail(ErrorKind::kInternal, "the query process sent an unreadable report");
    }
    auto kind = static_cast<ErrorKind>(std::stoi(report.substr(0, a)));
    throw Error(kind, report.substr(a + 1, b - a - 1), report.substr(b + 1));
  }
  if (WIFSIGNALED(status)) {
    Fail(ErrorKind::kInternal, "the query process died of signal {} ({})", WTERMSIG(status),
         strsignal(WTERMSIG(status)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Fail(ErrorKind::kInternal, "the query process ended with status {} and no report",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return SandboxEnd::kDone;
}

}  // namespace sluice
