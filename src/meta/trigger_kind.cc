#include "meta/trigger_kind.h"

#include <array>

namespace sluice::meta {

namespace {
constexpr std::array<const char*, 6> kWords = {"manual",   "api",   "arrival",
                                               "schedule", "after", "parent"};
}  // namespace

const char* ToString(TriggerKind kind) { return kWords[static_cast<size_t>(kind)]; }

std::optional<TriggerKind> FindTriggerKind(std::string_view word) {
  for (size_t i = 0; i < kWords.size(); ++i) {
    if (word == kWords[i]) return static_cast<TriggerKind>(i);
  }
  return std::nullopt;
}

std::vector<std::string> TriggerKindWords() { return {kWords.begin(), kWords.end()}; }

const std::vector<TriggerPattern>& TriggerPatterns() {
  static const std::vector<TriggerPattern> patterns = {
      {TriggerKind::kApi, "api", ""},
      {TriggerKind::kArrival, "", "arrival "},
      {TriggerKind::kSchedule, "", "schedule "},
      {TriggerKind::kAfter, "", "after "},
      {TriggerKind::kParent, "", "workflow "},
  };
  return patterns;
}

TriggerKind TriggerKindOf(std::string_view trigger) {
  for (const auto& p : TriggerPatterns()) {
    if (!p.exact.empty() && trigger == p.exact) return p.kind;
    if (!p.prefix.empty() && trigger.starts_with(p.prefix)) return p.kind;
  }
  return TriggerKind::kManual;
}

}  // namespace sluice::meta
