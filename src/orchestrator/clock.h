#pragma once
// Time for the orchestrator, behind an interface so that retry, backoff and timeout schedules
// are tested against a fake clock; and the retry rules themselves.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "project/workflow.h"

namespace sluice::orchestrator {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
  // Sleeps until `deadline_ms` or until `stop` is set; false when stopped early.
  virtual bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>& stop) = 0;
};

// The wall clock (sleeps wake within ~20 ms of a stop request).
Clock& SystemClock();

// A clock that only moves when told to, or when someone sleeps (sleeping jumps to the deadline
// at once and records the sleep).
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : now_(start_ms) {}
  int64_t NowMs() override { return now_; }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>& stop) override;
  void Advance(int64_t ms) { now_ += ms; }
  // Every sleep, in milliseconds, in order.
  std::vector<int64_t> sleeps();

 private:
  std::atomic<int64_t> now_;
  std::mutex mu_;
  std::vector<int64_t> sleeps_;
};

// The delay before retry number `retry` (1 after the first failure): interval * rate^(retry-1),
// capped at max_delay; with full jitter, a uniform draw in [0, that].
int64_t RetryDelayMs(const project::Retry& retry, int retry_number, std::mt19937_64& rng);

// Whether error `kind` is among `kinds` (`any` matches every kind).
bool KindMatches(const std::vector<std::string>& kinds, const std::string& kind);

// Whether a failure of `kind` after `failures` failed attempts is tried again.
bool ShouldRetry(const project::Retry& retry, int failures, const std::string& kind);

// Sets flags at deadlines (step and workflow timeouts) from one thread, on the wall clock.
class Watchdog {
 public:
  Watchdog();
  ~Watchdog();
  // Sets `*flag` at `deadline_ms` unless cancelled first; returns a ticket for Cancel.
  int64_t Arm(int64_t deadline_ms, std::atomic<bool>* flag);
  void Cancel(int64_t ticket);

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, std::pair<int64_t, std::atomic<bool>*>> armed_;  // ticket -> deadline, flag
  int64_t next_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::orchestrator
