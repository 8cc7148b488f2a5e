#include "orchestrator/clock.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/time.h"

namespace sluice::orchestrator {
namespace {

class WallClock : public Clock {
 public:
  int64_t NowMs() override { return sluice::NowMs(); }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>& stop) override {
    while (!stop) {
      int64_t left = deadline_ms - sluice::NowMs();
      if (left <= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 20)));
    }
    return false;
  }
};

}  // namespace

Clock& SystemClock() {
  static WallClock clock;
  return clock;
}

bool FakeClock::SleepUntil(int64_t deadline_ms, const std::atomic<bool>& stop) {
  if (stop) return false;
  std::lock_guard lock(mu_);
  int64_t now = now_;
  sleeps_.push_back(std::max<int64_t>(0, deadline_ms - now));
  if (deadline_ms > now) now_ = deadline_ms;
  return true;
}

std::vector<int64_t> FakeClock::sleeps() {
  std::lock_guard lock(mu_);
  return sleeps_;
}

int64_t RetryDelayMs(const project::Retry& retry, int retry_number, std::mt19937_64& rng) {
  double delay = static_cast<double>(retry.interval_ms) *
                 std::pow(retry.backoff_rate, std::max(0, retry_number - 1));
  if (retry.max_delay_ms > 0) delay = std::min(delay, static_cast<double>(retry.max_delay_ms));
  delay = std::min(delay, 1e12);
  auto ms = static_cast<int64_t>(std::llround(delay));
  if (!retry.full_jitter || ms <= 0) return ms;
  return std::uniform_int_distribution<int64_t>(0, ms)(rng);
}

bool KindMatches(const std::vector<std::string>& kinds, const std::string& kind) {
  return std::any_of(kinds.begin(), kinds.end(),
                     [&](const std::string& k) { return k == "any" || k == kind; });
}

bool ShouldRetry(const project::Retry& retry, int failures, const std::string& kind) {
  if (failures >= retry.attempts) return false;
  // A config error does not heal by waiting; only an explicit rule retries it.
  if (retry.on.empty()) return kind != "config";
  return KindMatches(retry.on, kind);
}

Watchdog::Watchdog() : thread_([this] { Loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t Watchdog::Arm(int64_t deadline_ms, std::atomic<bool>* flag) {
  std::lock_guard lock(mu_);
  int64_t ticket = next_++;
  armed_[ticket] = {deadline_ms, flag};
  cv_.notify_all();
  return ticket;
}

void Watchdog::Cancel(int64_t ticket) {
  std::lock_guard lock(mu_);
  armed_.erase(ticket);
}

void Watchdog::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    int64_t now = sluice::NowMs();
    int64_t next = now + 1000;
    for (auto it = armed_.begin(); it != armed_.end();) {
      if (it->second.first <= now) {
        it->second.second->store(true);
        it = armed_.erase(it);
      } else {
        next = std::min(next, it->second.first);
        ++it;
      }
    }
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, next - now)));
  }
}

}  // namespace sluice::orchestrator
