#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string> Split(std::string_view text, char sep);
std::string Trim(std::string_view text);
std::string ToLower(std::string_view text);
std::string ToUpper(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);
bool EndsWith(std::string_view text, std::string_view suffix);
void ReplaceAll(std::string& text, std::string_view from, std::string_view to);

// Levenshtein distance, for "did you mean" hints.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate nearest to `word`, or "" when none is close enough to be a plausible typo.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates);

// SQL literal 'text' with quotes doubled, and identifier "name" with quotes doubled.
std::string SqlString(std::string_view text);
std::string SqlIdent(std::string_view name);
// A SQL list literal of strings, ['a', 'b'], and a comma-separated identifier list, "a", "b".
std::string SqlStringList(const std::vector<std::string>& items);
std::string SqlIdentList(const std::vector<std::string>& names);
// True in SQL when any of the columns is NULL: "a" IS NULL OR "b" IS NULL.
std::string SqlAnyNull(const std::vector<std::string>& names);

// A plain name: letters, digits and underscores, not starting with a digit.
bool IsPlainName(std::string_view name);

std::string HumanCount(uint64_t n);  // 1234567 -> "1,234,567"
std::string HumanBytes(uint64_t n);  // 1536 -> "1.5 KiB"

// The deepest nesting of [ and { outside JSON strings, counting no further than `limit + 1`:
// one linear pass, no recursion, for text not yet parsed (it need not be valid JSON). Check it
// before handing outside text to nlohmann::json, whose dump() recurses.
int JsonDepth(std::string_view text, int limit);

}  // namespace sluice
