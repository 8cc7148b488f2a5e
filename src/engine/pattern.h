#pragma once
// A fast full-match for the simple regular expressions data-quality rules are written with:
// a sequence of single characters and character classes, each with an optional quantifier,
// such as `[0-9a-f]{64}`, `ORD-[0-9]{6}`, `[^@]+@[^@]+` or `\d{3}-\d{2}-\d{4}`. It answers
// exactly what DuckDB's regexp_full_match(value, pattern) answers (RE2, default options), in
// time linear in the value (never backtracking: at worst length x states / 64 word operations)
// and without RE2's per-call overhead; patterns outside the subset are refused and stay with
// regexp_full_match.
//
// The subset (anything else is refused, including what RE2 would reject):
//   atoms        a literal character (any UTF-8 character but the metacharacters
//                \ . + * ? ( ) | [ { ^ $; `]` and `}` are literals, as in RE2), an escaped ASCII
//                non-alphanumeric (\. \- \+ \\ \_ ...),
//                \n \r \t \f \v \a, `.` (any character but \n), \d \D \s \S \w \W (ASCII, as RE2:
//                \s is [\t\n\f\r ]), or a class [...] / [^...] of characters, ranges, escapes and
//                \d \s \w \D \S \W, with `]` first and `-` where it makes no range taken
//                literally (no [:alpha:], no \p{..}); [^...], \D, \W, \S do include \n
//   quantifiers  one of * + ? {n} {n,} {n,m} after an atom (n, m <= 1000; greedy only: a
//                trailing `?` as in `a+?` is refused; a `{` that is no quantifier is refused)
//   size         at most 1000 counted positions in all (`[a-z]{2,}x{5}` has 7)
//   anchors      an optional `^` at the very start and `$` at the very end, which change nothing
//                for a full match
//   no groups, alternation, backreferences, lookarounds, \b, \x.., \p.., flags such as (?i).
//
// Non-ASCII text: like RE2, the matcher works on code points, not bytes. Values are decoded as
// UTF-8 (DuckDB's VARCHARs always are valid UTF-8); `.`, negated classes and \D \W \S take one
// whole code point each, so `.{3}` matches "é€😀" and `[^a]{2}` does not match "é" (one code
// point, two bytes). Patterns may contain non-ASCII characters too, in and out of classes, and
// ranges such as [à-ü] are ranges of code points. A byte that is not part of valid UTF-8 (which
// DuckDB never hands out) matches nothing, so such a value never matches.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.h"

namespace sluice::engine {

class Pattern {
 public:
  // The compiled pattern, or nullopt when it is outside the subset (or not a valid RE2 pattern).
  static std::optional<Pattern> Compile(std::string_view re2_pattern);

  // True when the whole of `text` matches, as RE2::FullMatch (and regexp_full_match) says.
  // Thread-safe: a Pattern is immutable once compiled.
  bool FullMatch(std::string_view text) const;

  // The fewest and most code points a match has (most: nullopt when unbounded).
  size_t min_length() const;
  std::optional<size_t> max_length() const;

  // For tests: how FullMatch goes about it. Each strategy gives the same answers; a strategy
  // that does not apply to this pattern gives nullopt.
  enum class Strategy {
    kFixed,    // every quantifier is exact ({n}): one pass, one class per character
    kGreedy,   // the text splits only one way: atoms take all they can, from the start up to
               // the first whose class meets a following one's, the rest from the end
    kBitset,   // few enough states for one machine word: bit-parallel simulation
    kPerItem,  // any pattern: per quantified atom, what matters of the counts reached so far
  };
  std::optional<bool> FullMatchWith(Strategy strategy, std::string_view text) const;

  struct Program;

 private:
  explicit Pattern(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

// True when Pattern::Compile accepts the pattern, i.e. sluice_match can stand in for
// regexp_full_match with it.
bool SupportsPattern(std::string_view re2_pattern);

// The SQL function kPatternMatchFunction(value VARCHAR, pattern VARCHAR) -> BOOLEAN: the same
// answer as regexp_full_match(value, pattern), NULL when either is NULL. The pattern is compiled
// once per distinct pattern per chunk of rows (so once per chunk for a constant), in state local
// to the call: DuckDB's threads share nothing. A pattern outside the subset is an error when the
// statement runs: check SupportsPattern first and use regexp_full_match otherwise.
inline constexpr const char* kPatternMatchFunction = "sluice_match";

// Registers kPatternMatchFunction in the connection's database (the function keeps no state, so
// every connection of that database sees it). Does nothing when it is already there, so it can
// be called for every connection.
void RegisterPatternMatch(Connection& conn);

}  // namespace sluice::engine
