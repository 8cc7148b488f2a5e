#include "common/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace sluice {

namespace {
std::atomic<bool> interrupted{false};
thread_local const std::atomic<bool>* thread_stop = nullptr;

void OnSignal(int signal) {
  if (interrupted.exchange(true)) _exit(128 + signal);
  static const char message[] = "\ninterrupting: finishing cleanly (press again to kill)\n";
  ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
}
}  // namespace

void InstallInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool Interrupted() { return interrupted.load() || (thread_stop && thread_stop->load()); }

ScopedStop::ScopedStop(const std::atomic<bool>* flag) : previous_(thread_stop) {
  thread_stop = flag;
}

ScopedStop::~ScopedStop() { thread_stop = previous_; }

void ClearInterrupt() { interrupted = false; }

}  // namespace sluice
