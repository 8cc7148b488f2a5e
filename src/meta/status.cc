#include "meta/status.h"

#include <array>
#include <cstddef>

#include "common/error.h"

namespace sluice::meta {
namespace {

// Per status type: its words, in the order of the enum, and its moves as a from x to matrix.
template <typename S, size_t N>
struct Machine {
  const char* what;
  std::array<const char*, N> words;
  std::array<std::array<bool, N>, N> moves;  // moves[from][to]
  std::array<bool, N> terminal;
};

constexpr bool T = true, F = false;

// Columns: queued running succeeded failed cancelled.
constexpr Machine<RunStatus, 5> kRun{"run status",
                                     {"queued", "running", "succeeded", "failed", "cancelled"},
                                     {{
                                         /* queued    */ {F, T, F, F, T},
                                         /* running   */ {T, F, T, T, T},
                                         /* succeeded */ {F, F, F, F, F},
                                         /* failed    */ {T, F, F, F, F},
                                         /* cancelled */ {T, F, F, F, F},
                                     }},
                                     {F, F, T, T, T}};

// Columns: running retrying catching caught succeeded failed cancelled.
constexpr Machine<StepStatus, 7> kStep{
    "step status",
    {"running", "retrying", "catching", "caught", "succeeded", "failed", "cancelled"},
    {{
        /* running   */ {T, T, T, F, T, T, T},
        /* retrying  */ {T, F, F, F, F, T, T},
        /* catching  */ {F, F, F, T, F, T, T},
        /* caught    */ {F, F, F, F, F, F, F},
        /* succeeded */ {F, F, F, F, F, F, F},
        /* failed    */ {T, T, F, F, F, F, F},
        /* cancelled */ {T, T, F, F, F, F, F},
    }},
    {F, F, F, T, T, T, T}};

// Columns: running succeeded failed interrupted cancelled.
constexpr Machine<AttemptStatus, 5> kAttempt{
    "attempt status",
    {"running", "succeeded", "failed", "interrupted", "cancelled"},
    {{
        /* running     */ {F, T, T, T, T},
        /* succeeded   */ {F, F, F, F, F},
        /* failed      */ {F, T, T, T, T},
        /* interrupted */ {F, T, T, T, T},
        /* cancelled   */ {F, T, T, T, T},
    }},
    {F, T, T, T, T}};

// Statuses without moves: their words only, in the order of the enum.
constexpr std::array<const char*, 3> kFileWords{"active", "quarantined", "held"};
constexpr std::array<const char*, 2> kExtractFileWords{"staged", "committed"};
constexpr std::array<const char*, 5> kLandingWords{"waiting", "held", "registered", "quarantined",
                                                   "removed"};

template <typename S, size_t N>
S Parse(const Machine<S, N>& m, std::string_view word) {
  for (size_t i = 0; i < N; ++i) {
    if (word == m.words[i]) return static_cast<S>(i);
  }
  Fail(ErrorKind::kInternal, "unknown {} '{}'", m.what, word);
}

template <typename S, size_t N>
bool Allowed(const Machine<S, N>& m, S from, S to) {
  return m.moves[static_cast<size_t>(from)][static_cast<size_t>(to)];
}

template <typename S, size_t N>
void Check(const Machine<S, N>& m, S from, S to) {
  if (Allowed(m, from, to)) return;
  Fail(ErrorKind::kInternal, "refused {} move from {} to {}", m.what,
       m.words[static_cast<size_t>(from)], m.words[static_cast<size_t>(to)]);
}

}  // namespace

const char* ToString(RunStatus s) { return kRun.words[static_cast<size_t>(s)]; }
const char* ToString(StepStatus s) { return kStep.words[static_cast<size_t>(s)]; }
const char* ToString(AttemptStatus s) { return kAttempt.words[static_cast<size_t>(s)]; }

RunStatus ParseRunStatus(std::string_view word) { return Parse(kRun, word); }
std::optional<RunStatus> FindRunStatus(std::string_view word) {
  for (size_t i = 0; i < kRun.words.size(); ++i) {
    if (word == kRun.words[i]) return static_cast<RunStatus>(i);
  }
  return std::nullopt;
}
const char* ToString(FileStatus s) { return kFileWords[static_cast<size_t>(s)]; }
const char* ToString(LandingState s) { return kLandingWords[static_cast<size_t>(s)]; }
FileStatus ParseFileStatus(std::string_view word) {
  for (size_t i = 0; i < kFileWords.size(); ++i) {
    if (word == kFileWords[i]) return static_cast<FileStatus>(i);
  }
  Fail(ErrorKind::kInternal, "unknown file status '{}'", word);
}
const char* ToString(ExtractFileStatus s) { return kExtractFileWords[static_cast<size_t>(s)]; }
ExtractFileStatus ParseExtractFileStatus(std::string_view word) {
  for (size_t i = 0; i < kExtractFileWords.size(); ++i) {
    if (word == kExtractFileWords[i]) return static_cast<ExtractFileStatus>(i);
  }
  Fail(ErrorKind::kInternal, "unknown extraction file status '{}'", word);
}
std::optional<LandingState> FindLandingState(std::string_view word) {
  for (size_t i = 0; i < kLandingWords.size(); ++i) {
    if (word == kLandingWords[i]) return static_cast<LandingState>(i);
  }
  return std::nullopt;
}
LandingState LandingStateOf(FileStatus status) {
  switch (status) {
    case FileStatus::kActive:
      return LandingState::kRegistered;
    case FileStatus::kHeld:
      return LandingState::kHeld;
    case FileStatus::kQuarantined:
      break;
  }
  return LandingState::kQuarantined;
}
StepStatus ParseStepStatus(std::string_view word) { return Parse(kStep, word); }
AttemptStatus ParseAttemptStatus(std::string_view word) { return Parse(kAttempt, word); }

bool IsTerminal(RunStatus s) { return kRun.terminal[static_cast<size_t>(s)]; }
bool IsTerminal(StepStatus s) { return kStep.terminal[static_cast<size_t>(s)]; }
bool IsTerminal(AttemptStatus s) { return kAttempt.terminal[static_cast<size_t>(s)]; }

bool CanTransition(RunStatus from, RunStatus to) { return Allowed(kRun, from, to); }
bool CanTransition(StepStatus from, StepStatus to) { return Allowed(kStep, from, to); }
bool CanTransition(AttemptStatus from, AttemptStatus to) { return Allowed(kAttempt, from, to); }

void CheckTransition(RunStatus from, RunStatus to) { Check(kRun, from, to); }
void CheckTransition(StepStatus from, StepStatus to) { Check(kStep, from, to); }
void CheckTransition(AttemptStatus from, AttemptStatus to) { Check(kAttempt, from, to); }

}  // namespace sluice::meta
