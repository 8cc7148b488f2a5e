#pragma once
// How a run was started, as one word derived from its recorded `trigger` text (the text itself
// stays as it is: `arrival orders`, `schedule 0 6 * * *`, `after load run 4`, ...). The derivation
// is total: a trigger text of no other kind (`manual`, or anything older releases wrote) is
// kManual, so every run has exactly one kind and the kind filter partitions the run log.
//
// Thread-safe: pure functions over constants.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::meta {

enum class TriggerKind {
  kManual,    // `sluice run` / `sluice crawl` / `sluice check` from the command line
  kApi,       // POST /api/workflows/NAME/runs
  kArrival,   // files landed (`arrival SOURCE`, `arrival (batch of N)`)
  kSchedule,  // a cron schedule fired (`schedule CRON`)
  kAfter,     // another workflow's run ended (`after WORKFLOW run ID`)
  kParent,    // started by a workflow run's step (`workflow NAME run ID`)
};

// The word users see: manual, api, arrival, schedule, after, parent.
const char* ToString(TriggerKind kind);
// The kind a word a user typed names (`--trigger-kind`, `?trigger_kind=`); nullopt otherwise.
std::optional<TriggerKind> FindTriggerKind(std::string_view word);
// Every kind's word, in declaration order (for messages and CLI choices).
std::vector<std::string> TriggerKindWords();
// The kind of a run whose trigger text is `trigger`.
TriggerKind TriggerKindOf(std::string_view trigger);

// What the trigger text of a kind looks like, for the run log's SQL filter: `exact` (the whole
// text) or `prefix` (its start); kManual has neither and is "none of the others".
struct TriggerPattern {
  TriggerKind kind;
  std::string_view exact, prefix;
};
const std::vector<TriggerPattern>& TriggerPatterns();

}  // namespace sluice::meta
