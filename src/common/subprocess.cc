#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/time.h"

extern char** environ;

namespace sluice {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Blocks SIGPIPE in this thread while writing to the program's stdin (a program that does not
// read its input must not kill Sluice), then discards a SIGPIPE raised meanwhile.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    struct timespec zero {};
    while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

// This process's environment with `set` over it, as "NAME=value" strings.
std::vector<std::string> Environment(const std::vector<std::pair<std::string, std::string>>& set) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : set) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& texts) {
  std::vector<char*> out;
  for (auto& t : texts) out.push_back(t.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

ProgramResult RunProgram(const Program& program) {
  if (program.argv.empty() || program.argv[0].empty()) {
    FailWithCode(ErrorKind::kConfig, "command.not_found", "no program to run (an empty command)");
  }
  int in[2], out[2], err[2];
  auto fail_pipe = [](int e) {
    FailWithCode(ErrorKind::kIo, "command.spawn", "cannot create a pipe: {}", strerror(e));
  };
  if (pipe2(in, O_CLOEXEC) != 0) fail_pipe(errno);
  if (pipe2(out, O_CLOEXEC) != 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    fail_pipe(e);
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    fail_pipe(e);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!program.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, program.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so a stop ends it all
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = program.argv;
  std::vector<std::string> env = Environment(program.env);
  auto argv = Pointers(args);
  auto envp = Pointers(env);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, args[0].c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  int to_child = in[1], from_out = out[0], from_err = err[0];
  if (spawned != 0) {
    CloseFd(to_child);
    CloseFd(from_out);
    CloseFd(from_err);
    std::string where = program.cwd.empty() ? "" : " in " + program.cwd.string();
    if (spawned == ENOENT || spawned == EACCES || spawned == ENOTDIR || spawned == ENOEXEC) {
      FailWithCode(ErrorKind::kConfig, "command.not_found", "cannot run {}{}: {}", program.argv[0],
                   where, strerror(spawned));
    }
    FailWithCode(ErrorKind::kIo, "command.spawn", "cannot start {}{}: {}", program.argv[0], where,
                 strerror(spawned));
  }
  for (int fd : {to_child, from_out, from_err}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  SigpipeBlock sigpipe;
  auto drain = [&](int& fd, bool is_stderr) {
    char buffer[8192];
    while (fd >= 0) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n > 0) {
        if (program.on_output) program.on_output(is_stderr, std::string_view(buffer, n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n == 0) CloseFd(fd);
        break;
      }
    }
  };
  size_t written = 0;
  if (program.input.empty()) CloseFd(to_child);
  const int64_t start = MonotonicMs();
  int status = 0;
  bool exited = false;
  ProgramResult result;
  while (true) {
    // Its exit, seen without reaping it: while it is not reaped its process group id cannot
    // go to another process, so the group can be killed safely below.
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      exited = true;
      break;
    }
    if ((program.stop && program.stop->load()) || Interrupted()) {
      result.end = ProgramEnd::kStopped;
      break;
    }
    int64_t left = program.timeout_ms > 0 ? start + program.timeout_ms - MonotonicMs() : 20;
    if (left <= 0) {
      result.end = ProgramEnd::kTimedOut;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (to_child >= 0) fds[n++] = {to_child, POLLOUT, 0};
    if (from_out >= 0) fds[n++] = {from_out, POLLIN, 0};
    if (from_err >= 0) fds[n++] = {from_err, POLLIN, 0};
    // Short waits: the loop also watches for the program's exit and for a stop.
    int ready = poll(n ? fds : nullptr, n, static_cast<int>(std::min<int64_t>(left, 20)));
    if (ready <= 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == to_child) {
        ssize_t w = write(to_child, program.input.data() + written, program.input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == program.input.size()) {
          CloseFd(to_child);  // all written, or the program stopped reading: its exit decides
        }
      } else if (fds[i].fd == from_out) {
        drain(from_out, false);
      } else {
        drain(from_err, true);
      }
    }
  }
  CloseFd(to_child);
  if (exited) {
    // What it started and left running (a child in the background) ends with it: nothing of a
    // finished program writes on after its step or job has moved on.
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    if (program.grace_ms > 0) {
      kill(-pid, SIGTERM);
      const int64_t until = MonotonicMs() + program.grace_ms;
      while (MonotonicMs() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        drain(from_out, false);
        drain(from_err, true);
        usleep(10'000);
      }
    }
    kill(-pid, SIGKILL);  // the group: whatever it started too
    if (!exited) {
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  drain(from_out, false);
  drain(from_err, true);
  CloseFd(from_out);
  CloseFd(from_err);
  if (result.end == ProgramEnd::kStopped || result.end == ProgramEnd::kTimedOut) return result;
  if (WIFSIGNALED(status)) {
    result.end = ProgramEnd::kSignaled;
    result.code = WTERMSIG(status);
  } else {
    result.end = ProgramEnd::kExited;
    result.code = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace sluice
