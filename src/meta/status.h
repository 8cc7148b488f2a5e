#pragma once
// The statuses of runs, workflow steps and attempts, and the one table of the moves between them
// that the stores and the executor obey. The words (ToString) are what the database holds and
// what users read in JSON and text; Parse reads them back.
//
// Allowed moves (CanTransition):
//   Run:     queued -> running (claimed) | cancelled (cancelled before it started)
//            running -> succeeded | failed | cancelled (finished) | queued (requeued on stop)
//            failed | cancelled -> queued (redriven by `retry`)
//   Step:    running -> running (attempt interrupted, tried again) | retrying | catching
//                       | succeeded | failed | cancelled
//            retrying -> running (next attempt) | failed | cancelled (the run ended first)
//            catching -> caught | failed (its catch handler ended) | cancelled (the run ended)
//            failed | cancelled -> running (a container, redriven) | retrying (a leaf, redriven)
//   Attempt: running -> succeeded | failed | interrupted | cancelled
//            failed | interrupted | cancelled -> succeeded | failed | interrupted | cancelled
//                      (ended again: a container step's attempt when the container resumes after
//                      a restart or a redrive; a leaf's failed attempt when its catch handler
//                      ends or the run ends while it waits to retry; an interrupted one when a
//                      restart marks it again)
// A step's first attempt starts it `running` (no move: there was no step).
//
// Thread-safe: pure functions over constants.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::meta {

enum class RunStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class StepStatus { kRunning, kRetrying, kCatching, kCaught, kSucceeded, kFailed, kCancelled };
enum class AttemptStatus { kRunning, kSucceeded, kFailed, kInterrupted, kCancelled };

// A file's place in one version of a table (table_files.status): active (read by the table),
// quarantined (kept out because the file itself cannot join: damaged, unreadable, empty, a
// format, dialect or partition shape the table cannot read, a schema drift no policy absorbs),
// held (kept out by the source's choice: a check with on_fail: quarantine, or on_schema_change:
// quarantine for a drift evolve would absorb; `sluice landing release` crawls it again).
enum class FileStatus { kActive, kQuarantined, kHeld };
// A landed file's state, as `sluice landing list` shows it: waiting (landed, not crawled yet),
// held and quarantined (kept out of bronze.<source>, as FileStatus), registered (in the table),
// removed (taken out by `sluice landing remove`).
enum class LandingState { kWaiting, kHeld, kRegistered, kQuarantined, kRemoved };
// A file of an extraction run (meta/extract_state.h): staged (its bytes wait under a hidden key,
// the run has not committed), committed (the run committed; the file is on its way to landing).
enum class ExtractFileStatus { kStaged, kCommitted };

// The word users and the database see ("queued", "running", ...).
const char* ToString(RunStatus s);
const char* ToString(StepStatus s);
const char* ToString(AttemptStatus s);
const char* ToString(FileStatus s);
const char* ToString(LandingState s);
const char* ToString(ExtractFileStatus s);

// The status a word names. An unknown word (e.g. written by a newer release) throws
// Error(kInternal) naming the word and what it was read as.
RunStatus ParseRunStatus(std::string_view word);
// The run status a word a user typed names (`sluice runs --status`, `?status=`); nullopt for
// any other word.
std::optional<RunStatus> FindRunStatus(std::string_view word);
StepStatus ParseStepStatus(std::string_view word);
AttemptStatus ParseAttemptStatus(std::string_view word);
FileStatus ParseFileStatus(std::string_view word);
ExtractFileStatus ParseExtractFileStatus(std::string_view word);
// The landing state a word a user typed names (`sluice landing list --state`); nullopt for any
// other word.
std::optional<LandingState> FindLandingState(std::string_view word);
// The landing state of a file the table holds with `status`.
LandingState LandingStateOf(FileStatus status);

// Whether the status is final: nothing moves it on without a redrive.
//   Run: succeeded, failed, cancelled. Step: caught, succeeded, failed, cancelled.
//   Attempt: every status but running.
bool IsTerminal(RunStatus s);
bool IsTerminal(StepStatus s);
bool IsTerminal(AttemptStatus s);

// Whether the table above allows the move from `from` to `to`.
bool CanTransition(RunStatus from, RunStatus to);
bool CanTransition(StepStatus from, StepStatus to);
bool CanTransition(AttemptStatus from, AttemptStatus to);

// Throws Error(kInternal) naming both statuses unless CanTransition(from, to): for callers that
// change a status they know (a refused move is a bug in Sluice).
void CheckTransition(RunStatus from, RunStatus to);
void CheckTransition(StepStatus from, StepStatus to);
void CheckTransition(AttemptStatus from, AttemptStatus to);

}  // namespace sluice::meta
