#include "engine/pattern.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstring>
#include <unordered_map>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/error.h"
#include "common/strings.h"

namespace sluice::engine {

namespace {

constexpr char32_t kMaxRune = 0x10FFFF;
constexpr char32_t kBadRune = 0x110000;  // a byte that is not valid UTF-8: in no class at all
constexpr uint32_t kUnbounded = UINT32_MAX;
constexpr uint32_t kMaxRepeat = 1000;  // RE2's own limit on {n,m}; beyond it RE2 fails
// States (counts tracked) of the whole pattern; beyond this the pattern is refused. Keeps RE2's
// side of every accepted pattern well inside its default program size, too.
constexpr uint32_t kMaxStates = 1000;

struct Range {
  char32_t lo, hi;
  bool operator==(const Range&) const = default;
};

// Decodes the UTF-8 character at s[i] (i < n) and moves i past it. What is not valid UTF-8 (bad
// lead or continuation byte, overlong form, surrogate, beyond U+10FFFF) is one byte of kBadRune.
inline char32_t Decode(const unsigned char* s, size_t n, size_t& i) {
  unsigned b0 = s[i];
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    char32_t c = ((b0 & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
    i += 2;
    return c;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    char32_t c = ((b0 & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) {
      i += 3;
      return c;
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    char32_t c = ((b0 & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
                 (s[i + 3] & 0x3Fu);
    if (c >= 0x10000 && c <= kMaxRune) {
      i += 4;
      return c;
    }
  }
  ++i;
  return kBadRune;
}

// The UTF-8 character that ends at s[e - 1] (lo < e), moving e to its start; kBadRune (e left
// alone) when the bytes from lo to e do not end with a valid one. On valid UTF-8 the same
// characters as Decode, and whatever is not valid never matches either way.
inline char32_t DecodeBack(const unsigned char* s, size_t lo, size_t& e) {
  size_t start = e - 1;
  while (start > lo && e - start < 4 && (s[start] & 0xC0) == 0x80) --start;
  size_t j = start;
  char32_t c = Decode(s, e, j);
  if (c == kBadRune || j != e) return kBadRune;
  e = start;
  return c;
}

// A set of code points while parsing: ranges, normalized by Finish().
struct CodeSet {
  std::vector<Range> ranges;

  void Add(char32_t lo, char32_t hi) { ranges.push_back({lo, hi}); }
  void Add(const CodeSet& other) {
    ranges.insert(ranges.end(), other.ranges.begin(), other.ranges.end());
  }
  void Finish() {
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.lo < b.lo; });
    std::vector<Range> merged;
    for (const Range& r : ranges) {
      if (!merged.empty() && r.lo <= merged.back().hi + 1) {
        merged.back().hi = std::max(merged.back().hi, r.hi);
      } else {
        merged.push_back(r);
      }
    }
    ranges = std::move(merged);
  }
  // The complement within [0, kMaxRune] (as RE2 negates: \n included, ClassNL being on).
  void Negate() {
    Finish();
    std::vector<Range> out;
    char32_t next = 0;
    for (const Range& r : ranges) {
      if (r.lo > next) out.push_back({next, r.lo - 1});
      next = r.hi + 1;
    }
    if (next <= kMaxRune) out.push_back({next, kMaxRune});
    ranges = std::move(out);
  }
};

// RE2's Perl classes (perl_groups.cc), ASCII only; upper case is the complement.
CodeSet PerlClass(char name) {
  CodeSet set;
  switch (name | 0x20) {
    case 'd':
      set.Add('0', '9');
      break;
    case 's':
      set.Add('\t', '\n');
      set.Add('\f', '\r');
      set.Add(' ', ' ');
      break;
    default:  // 'w'
      set.Add('0', '9');
      set.Add('A', 'Z');
      set.Add('_', '_');
      set.Add('a', 'z');
      break;
  }
  if (name >= 'A' && name <= 'Z') set.Negate();
  set.Finish();
  return set;
}

bool IsPerlClass(char c) {
  return c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W';
}

struct RawItem {
  CodeSet set;
  uint32_t min, max;
};

// A recursive-descent parser for the subset, following RE2's parse.cc so that whatever it
// accepts means what RE2 makes of it. Returns false for anything else.
class Parser {
 public:
  explicit Parser(std::string_view pattern) : p_(pattern) {}

  bool Parse(std::vector<RawItem>& items) {
    if (More() && Peek() == '^') ++i_;  // beginning of text: a no-op for a full match
    while (More()) {
      char c = Peek();
      if (c == '$') {
        ++i_;
        return !More();  // end of text: only as the very last character
      }
      RawItem item;
      if (!Atom(item.set)) return false;
      item.min = item.max = 1;
      if (More() && !Quantifier(item.min, item.max)) return false;
      items.push_back(std::move(item));
    }
    return true;
  }

 private:
  bool More() const { return i_ < p_.size(); }
  char Peek() const { return p_[i_]; }

  // One UTF-8 character of the pattern (RE2 refuses a pattern that is not valid UTF-8).
  bool Rune(char32_t& r) {
    r = Decode(reinterpret_cast<const unsigned char*>(p_.data()), p_.size(), i_);
    return r != kBadRune;
  }

  // After a backslash: an escaped character (never a class). RE2's ParseEscape, less octal and
  // hex escapes.
  bool Escape(char32_t& r) {
    if (!More()) return false;  // trailing backslash
    unsigned char c = static_cast<unsigned char>(Peek());
    ++i_;
    switch (c) {
      case 'n':
        r = '\n';
        return true;
      case 'r':
        r = '\r';
        return true;
      case 't':
        r = '\t';
        return true;
      case 'f':
        r = '\f';
        return true;
      case 'v':
        r = '\v';
        return true;
      case 'a':
        r = '\a';
        return true;
      default:
        // Escaped ASCII non-word characters are themselves (RE2 also allows \_).
        if (c < 0x80 && !std::isalnum(c)) {
          r = c;
          return true;
        }
        return false;  // \b \B \A \z \C \Q \p \x \1 \0 ..., or bad escapes
    }
  }

  bool Atom(CodeSet& set) {
    char c = Peek();
    switch (c) {
      case '(':
      case ')':
      case '|':
      case '^':  // not at the start: RE2 accepts it, we do not
      case '*':
      case '+':
      case '?':
      case '{':  // a repetition with nothing to repeat, or a literal '{': refused either way
        return false;
      case '.':
        ++i_;
        set.Add(0, '\n' - 1);
        set.Add('\n' + 1, kMaxRune);
        set.Finish();
        return true;
      case '[':
        return Class(set);
      case '\\': {
        ++i_;
        if (More() && IsPerlClass(Peek())) {
          set = PerlClass(Peek());
          ++i_;
          return true;
        }
        char32_t r;
        if (!Escape(r)) return false;
        set.Add(r, r);
        return true;
      }
      default: {
        char32_t r;
        if (!Rune(r)) return false;
        set.Add(r, r);
        return true;
      }
    }
  }

  // RE2's ParseCCCharacter: an escape or any character.
  bool ClassChar(char32_t& r) {
    if (!More()) return false;
    if (Peek() == '\\') {
      ++i_;
      return Escape(r);
    }
    return Rune(r);
  }

  // RE2's ParseCharClass, in Perl mode: ']' is literal first, '-' wherever it cannot be a range.
  bool Class(CodeSet& set) {
    ++i_;  // '['
    bool negated = false;
    if (More() && Peek() == '^') {
      ++i_;
      negated = true;
    }
    bool first = true;
    while (More() && (Peek() != ']' || first)) {
      first = false;
      char c = Peek();
      if (c == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') return false;  // [:alpha:]
      if (c == '\\' && i_ + 1 < p_.size() && IsPerlClass(p_[i_ + 1])) {
        set.Add(PerlClass(p_[i_ + 1]));
        i_ += 2;
        continue;
      }
      if (c == '\\' && i_ + 1 < p_.size() && (p_[i_ + 1] == 'p' || p_[i_ + 1] == 'P')) {
        return false;  // \p{Greek}
      }
      char32_t lo, hi;
      if (!ClassChar(lo)) return false;
      hi = lo;
      if (i_ + 1 < p_.size() && Peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;  // '-'
        if (!ClassChar(hi)) return false;
        if (hi < lo) return false;  // RE2: bad character class range
      }
      set.Add(lo, hi);
    }
    if (!More()) return false;  // missing ]
    ++i_;                       // ']'
    if (negated) set.Negate();
    set.Finish();
    return true;
  }

  // RE2's ParseInteger: digits, no leading zero.
  bool Integer(uint32_t& n) {
    if (!More() || !std::isdigit(static_cast<unsigned char>(Peek()))) return false;
    if (Peek() == '0' && i_ + 1 < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_ + 1])))
      return false;
    n = 0;
    while (More() && std::isdigit(static_cast<unsigned char>(Peek()))) {
      if (n > kMaxRepeat) return false;  // RE2 refuses it (or reads a literal '{'): either way
      n = n * 10 + static_cast<uint32_t>(Peek() - '0');
      ++i_;
    }
    return n <= kMaxRepeat;
  }

  // An optional quantifier after an atom; false for a stacked, lazy or malformed one.
  bool Quantifier(uint32_t& min, uint32_t& max) {
    char c = Peek();
    if (c == '*') {
      min = 0, max = kUnbounded;
      ++i_;
    } else if (c == '+') {
      min = 1, max = kUnbounded;
      ++i_;
    } else if (c == '?') {
      min = 0, max = 1;
      ++i_;
    } else if (c == '{') {
      ++i_;
      if (!Integer(min)) return false;
      max = min;
      if (More() && Peek() == ',') {
        ++i_;
        if (More() && Peek() == '}') {
          max = kUnbounded;
        } else if (!Integer(max) || max < min) {
          return false;
        }
      }
      if (!More() || Peek() != '}') return false;
      ++i_;
    } else {
      return true;  // no quantifier
    }
    // a+? (lazy: refused, as asked) or a** / a+{2} (an error in RE2).
    if (More() && (Peek() == '?' || Peek() == '*' || Peek() == '+' || Peek() == '{')) return false;
    return true;
  }

  std::string_view p_;
  size_t i_ = 0;
};

// A class as the matcher tests it: ASCII by bitmap, the rest by sorted ranges.
struct Set {
  uint64_t ascii[2] = {0, 0};
  std::vector<Range> high;  // sorted, disjoint, all >= 0x80

  uint8_t table[256] = {};  // 1 for the ASCII characters in the set, 0 for all other bytes

  explicit Set(const CodeSet& set) {
    for (const Range& r : set.ranges) {
      for (char32_t c = r.lo; c <= r.hi && c < 0x80; ++c) {
        ascii[c >> 6] |= uint64_t{1} << (c & 63);
        table[c] = 1;
      }
      if (r.hi >= 0x80) high.push_back({std::max<char32_t>(r.lo, 0x80), r.hi});
    }
  }
  bool operator==(const Set& other) const {
    return ascii[0] == other.ascii[0] && ascii[1] == other.ascii[1] && high == other.high;
  }
  bool Intersects(const Set& other) const {
    if ((ascii[0] & other.ascii[0]) || (ascii[1] & other.ascii[1])) return true;
    for (const Range& a : high) {
      for (const Range& b : other.high) {
        if (a.lo <= b.hi && b.lo <= a.hi) return true;
      }
    }
    return false;
  }
  bool HasAscii(unsigned c) const { return (ascii[c >> 6] >> (c & 63)) & 1; }
  bool Has(char32_t c) const {
    if (c < 0x80) return HasAscii(c);
    for (const Range& r : high) {
      if (c < r.lo) return false;
      if (c <= r.hi) return true;
    }
    return false;
  }
};

struct Item {
  uint32_t set;
  uint32_t min, max;  // max may be kUnbounded
  uint32_t cap;       // counts tracked, 1..cap: max, or max(min, 1) when unbounded (saturating)
};

}  // namespace

struct Pattern::Program {
  std::vector<Set> sets;
  std::vector<Item> items;
  size_t min_len = 0;
  std::optional<size_t> max_len;
  bool fixed = true;  // every item has min == max
  // kGreedy: the items before `split` are matched from the start of the text, each taking all
  // it can, and the others from the end, backwards, the same way. That is exact when no item
  // with a varying count before `split` has a class in common with an item that may follow it
  // (the text then splits only one way between them), and none from `split` on with an item
  // from `split` on that may precede it.
  bool greedy = false;
  size_t split = 0;

  // kBitset: bit 0 is the start; then per item its cap count bits and a "left it" bit (the
  // item's exit, where the next item is entered); the last exit bit is acceptance.
  bool bitset = false;
  uint64_t ascii_mask[128] = {};   // count bits whose class has this ASCII character
  std::vector<uint64_t> set_mask;  // per set, the count bits of its items
  uint64_t exit_mask = 0;          // counts an item may be left at (count >= min)
  uint64_t exit_bits = 0;          // the "left it" bits
  uint64_t loop_mask = 0;          // the last count of unbounded items (it stays)
  uint64_t accept = 0;
  uint64_t start = 0;  // bit 0, and the exit bits reached from it by skipping items
  // Per item with min == 0, in order: its entry bit (the exit bit before it) and its exit bit.
  std::vector<std::pair<uint32_t, uint32_t>> skips;

  // kPerItem: per item, what of its counts so far matters. For an unbounded item, the highest
  // count (a higher count can leave the item sooner, and all can go on); for a bounded item that
  // may be left at any count (min <= 1), the lowest (it can go on longest); otherwise the set of
  // counts, as a run of words. A count of 0 (or no bit) is "not in this item".
  struct Slot {
    enum Kind : uint8_t { kHighest, kLowest, kCounts } kind;
    uint32_t offset, words;  // words of state (one for the counters)
    uint32_t limit;          // kHighest: the saturating count; kLowest: max
    uint32_t exit_at;        // kHighest, kLowest: the lowest count the item may be left at
    uint32_t exit_word;      // kCounts: the word holding the bit of count `min`
    uint64_t exit_first;     // kCounts: in exit_word, the bits of counts >= min
    uint64_t last_mask;      // kCounts: valid bits of the last word
  };
  std::vector<Slot> slots;
  uint32_t total_words = 0;

  uint64_t HighMask(char32_t c) const {
    uint64_t m = 0;
    for (size_t s = 0; s < sets.size(); ++s) {
      if (sets[s].Has(c)) m |= set_mask[s];
    }
    return m;
  }
  // Adds the exit bits reached from those in g by skipping items (a fixed number of steps: no
  // branch on the text, which would mispredict).
  uint64_t Close(uint64_t g) const {
    for (auto [from, to] : skips) g |= ((g >> from) & 1) << to;
    return g;
  }

  // kFixed on a text of exactly min_len bytes (at least 16): 16 characters at a time. A byte b
  // is in set s when nibbles[s][b & 15] has bit b >> 4 (so only ASCII is). Each block is 16
  // positions of the match (the last one overlaps the one before it when the length is not a
  // multiple of 16), with the lanes of each set among them.
  struct Lanes {
    uint32_t set;
    std::array<uint8_t, 16> mask;  // 0xFF for the lanes whose class is `set`
  };
  struct Block {
    uint32_t offset;
    std::vector<Lanes> lanes;
  };
  std::vector<std::array<uint8_t, 16>> nibbles;
  std::vector<Block> blocks;  // empty: the bytes are checked one by one

  bool MatchBlocks(const unsigned char* s) const;
  bool MatchFixed(std::string_view text) const;
  bool MatchGreedy(std::string_view text) const;
  bool MatchBitset(std::string_view text) const;
  bool MatchPerItem(std::string_view text) const;
};

namespace {

std::shared_ptr<Pattern::Program> Build(std::vector<RawItem> raw) {
  auto prog = std::make_shared<Pattern::Program>();
  // x{0} matches nothing but the empty string: drop it. Then x{a,b}x{c,d} is x{a+c,b+d}.
  for (RawItem& r : raw) {
    if (r.max == 0) continue;
    Set set(r.set);
    uint32_t s = 0;
    while (s < prog->sets.size() && !(prog->sets[s] == set)) ++s;
    if (s == prog->sets.size()) prog->sets.push_back(std::move(set));
    if (!prog->items.empty() && prog->items.back().set == s) {
      Item& last = prog->items.back();
      last.min += r.min;
      last.max = (last.max == kUnbounded || r.max == kUnbounded) ? kUnbounded : last.max + r.max;
    } else {
      prog->items.push_back(Item{s, r.min, r.max, 0});
    }
  }
  uint64_t states = 0, max_len = 0;
  bool bounded = true;
  for (Item& it : prog->items) {
    it.cap = it.max == kUnbounded ? std::max<uint32_t>(it.min, 1) : it.max;
    states += it.cap;
    prog->min_len += it.min;
    if (it.max == kUnbounded) {
      bounded = false;
    } else {
      max_len += it.max;
    }
    if (it.min != it.max) prog->fixed = false;
  }
  if (states > kMaxStates) return nullptr;
  {
    const auto& items = prog->items;
    auto meet = [&](size_t a, size_t b) {
      return prog->sets[items[a].set].Intersects(prog->sets[items[b].set]);
    };
    // An item may be followed by the next one, and by those after it as long as the ones between
    // may be skipped (min 0); the same backwards, down to `split`.
    auto forwards = [&](size_t k) {
      if (items[k].min == items[k].max) return true;
      for (size_t j = k + 1; j < items.size(); ++j) {
        if (meet(k, j)) return false;
        if (items[j].min > 0) break;
      }
      return true;
    };
    size_t split = 0;
    while (split < items.size() && forwards(split)) ++split;
    auto backwards = [&](size_t k) {
      if (items[k].min == items[k].max) return true;
      for (size_t j = k; j-- > split;) {
        if (meet(k, j)) return false;
        if (items[j].min > 0) break;
      }
      return true;
    };
    prog->greedy = true;
    for (size_t k = split; k < items.size(); ++k) prog->greedy = prog->greedy && backwards(k);
    prog->split = split;
  }
  if (bounded) prog->max_len = max_len;

  // kBitset layout.
  prog->set_mask.assign(prog->sets.size(), 0);
  if (1 + states + prog->items.size() <= 64) {
    prog->bitset = true;
    uint32_t bit = 1;
    std::vector<uint32_t> exits = {0};  // the start, then each item's exit bit
    for (const Item& it : prog->items) {
      uint64_t counts = ((it.cap == 64 ? 0 : (uint64_t{1} << it.cap)) - 1) << bit;
      prog->set_mask[it.set] |= counts;
      uint32_t from = std::max<uint32_t>(it.min, 1) - 1;  // bit of the lowest count >= min
      prog->exit_mask |= ((uint64_t{1} << (it.cap - from)) - 1) << (bit + from);
      if (it.max == kUnbounded) prog->loop_mask |= uint64_t{1} << (bit + it.cap - 1);
      bit += it.cap;
      prog->exit_bits |= uint64_t{1} << bit;
      exits.push_back(bit);
      ++bit;
    }
    prog->accept = uint64_t{1} << exits.back();
    // Skipping item k (min 0) goes from the exit bit before it to the exit bit after it.
    for (size_t k = 0; k < prog->items.size(); ++k) {
      if (prog->items[k].min == 0) prog->skips.emplace_back(exits[k], exits[k + 1]);
    }
    prog->start = prog->Close(1);
    for (unsigned c = 0; c < 128; ++c) {
      for (size_t s = 0; s < prog->sets.size(); ++s) {
        if (prog->sets[s].HasAscii(c)) prog->ascii_mask[c] |= prog->set_mask[s];
      }
    }
  }

  // kFixed blocks.
  if (prog->fixed && prog->min_len >= 16) {
    for (const Set& set : prog->sets) {
      std::array<uint8_t, 16> t{};
      for (unsigned c = 0; c < 128; ++c) {
        if (set.table[c]) t[c & 15] |= static_cast<uint8_t>(1u << (c >> 4));
      }
      prog->nibbles.push_back(t);
    }
    std::vector<uint32_t> set_at;  // the set of each position
    for (const Item& it : prog->items) set_at.insert(set_at.end(), it.min, it.set);
    auto n = static_cast<uint32_t>(set_at.size());
    for (uint32_t offset = 0;; offset += 16) {
      offset = std::min(offset, n - 16);
      Pattern::Program::Block block{offset, {}};
      for (uint32_t lane = 0; lane < 16; ++lane) {
        uint32_t set = set_at[offset + lane];
        auto it = std::find_if(block.lanes.begin(), block.lanes.end(),
                               [&](const auto& l) { return l.set == set; });
        if (it == block.lanes.end()) it = block.lanes.insert(block.lanes.end(), {set, {}});
        it->mask[lane] = 0xFF;
      }
      prog->blocks.push_back(std::move(block));
      if (offset + 16 >= n) break;
    }
  }

  // kPerItem layout.
  for (const Item& it : prog->items) {
    Pattern::Program::Slot slot{};
    slot.offset = prog->total_words;
    slot.words = 1;
    if (it.max == kUnbounded) {
      slot.kind = Pattern::Program::Slot::kHighest;
      slot.limit = it.cap;
      slot.exit_at = std::max<uint32_t>(it.min, 1);
    } else if (it.min <= 1) {
      slot.kind = Pattern::Program::Slot::kLowest;
      slot.limit = it.max;
      slot.exit_at = 1;
    } else {
      slot.kind = Pattern::Program::Slot::kCounts;
      slot.words = (it.cap + 63) / 64;
      slot.exit_word = (it.min - 1) / 64;
      slot.exit_first = ~uint64_t{0} << ((it.min - 1) % 64);
      uint32_t last = (it.cap - 1) % 64;
      slot.last_mask = last == 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
    }
    prog->slots.push_back(slot);
    prog->total_words += slot.words;
  }
  return prog;
}

}  // namespace

#if defined(__x86_64__)
namespace {
const bool kSsse3 = __builtin_cpu_supports("ssse3");
}  // namespace

// Whether every block's bytes are in their sets: per block two table lookups (pshufb) and a
// compare for 16 characters.
__attribute__((target("ssse3"))) bool Pattern::Program::MatchBlocks(const unsigned char* s) const {
  const Program& p = *this;
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i high_bit =
      _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, static_cast<char>(0x80), 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i zero = _mm_setzero_si128();
  for (const auto& block : p.blocks) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + block.offset));
    __m128i low = _mm_and_si128(v, low4);
    __m128i high = _mm_shuffle_epi8(high_bit, _mm_and_si128(_mm_srli_epi16(v, 4), low4));
    __m128i ok = zero;
    for (const auto& lanes : block.lanes) {
      __m128i table =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.nibbles[lanes.set].data()));
      __m128i in = _mm_and_si128(_mm_shuffle_epi8(table, low), high);
      __m128i mask = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes.mask.data()));
      ok = _mm_or_si128(ok, _mm_and_si128(in, mask));
    }
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(ok, zero)) != 0) return false;
  }
  return true;
}
#endif

bool Pattern::Program::MatchFixed(std::string_view text) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
#if defined(__x86_64__)
  if (n == min_len && !blocks.empty() && kSsse3) return MatchBlocks(s);
#endif
  if (n == min_len) {
    // As many bytes as the match has characters: it matches only if every byte is an ASCII
    // character of its class (a multi-byte character would leave too few characters). One table
    // lookup per byte, no branch.
    unsigned ok = 1;
    size_t at = 0;
    for (const Item& it : items) {
      const uint8_t* table = sets[it.set].table;
      for (uint32_t k = 0; k < it.min; ++k) ok &= table[s[at + k]];
      at += it.min;
    }
    return ok;
  }
  // More bytes than characters: only text with multi-byte characters can match.
  size_t i = 0;
  for (const Item& it : items) {
    const Set& set = sets[it.set];
    for (uint32_t k = 0; k < it.min; ++k) {
      if (i >= n || !set.Has(Decode(s, n, i))) return false;
    }
  }
  return i == n;
}

bool Pattern::Program::MatchGreedy(std::string_view text) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  for (size_t k = 0; k < split; ++k) {
    const Item& it = items[k];
    const Set& set = sets[it.set];
    uint32_t count = 0;
    while (count < it.max && i < n) {
      if (s[i] < 0x80) {
        if (!set.table[s[i]]) break;
        ++i;
      } else {
        size_t j = i;
        if (!set.Has(Decode(s, n, j))) break;
        i = j;
      }
      ++count;
    }
    if (count < it.min) return false;
  }
  size_t e = n;  // the rest, from the end back to i
  for (size_t k = items.size(); k-- > split;) {
    const Item& it = items[k];
    const Set& set = sets[it.set];
    uint32_t count = 0;
    while (count < it.max && e > i) {
      if (s[e - 1] < 0x80) {
        if (!set.table[s[e - 1]]) break;
        --e;
      } else {
        size_t f = e;
        if (!set.Has(DecodeBack(s, i, f))) break;
        e = f;
      }
      ++count;
    }
    if (count < it.min) return false;
  }
  return e == i;
}

bool Pattern::Program::MatchBitset(std::string_view text) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  uint64_t d = 0;      // count bits reached by the text so far
  uint64_t g = start;  // exit bits reached (items may be entered after them)
  while (i < n) {
    unsigned b = s[i];
    uint64_t m;
    if (b < 0x80) {
      m = ascii_mask[b];
      ++i;
    } else {
      m = HighMask(Decode(s, n, i));
    }
    // Next count in the same item, or first count of the item after an exit; unbounded items
    // keep their last count.
    d = (((d | g) << 1) | (d & loop_mask)) & m;
    if (!d) return false;
    // Counts >= min light their item's exit bit: adding the exit mask carries out of an item's
    // run of exit counts, into its exit bit, exactly when some count in the run is set.
    g = ((d & exit_mask) + exit_mask) & exit_bits;
    g = Close(g);
  }
  return (g & accept) != 0;
}

bool Pattern::Program::MatchPerItem(std::string_view text) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  uint64_t small[32];
  std::vector<uint64_t> big;
  uint64_t* st = small;
  if (total_words > 32) {
    big.resize(total_words);
    st = big.data();
  }
  std::fill(st, st + total_words, 0);
  // Whether the item may be left now.
  auto exits = [&](const Slot& slot) -> bool {
    const uint64_t* w = st + slot.offset;
    if (slot.kind != Slot::kCounts) return w[0] >= slot.exit_at;
    uint64_t any = w[slot.exit_word] & slot.exit_first;
    for (uint32_t k = slot.exit_word + 1; k < slot.words; ++k) any |= w[k];
    return any != 0;
  };
  bool at_start = true;
  while (i < n) {
    char32_t c = Decode(s, n, i);
    bool enter = at_start;
    uint64_t alive = 0;
    // Written to select rather than branch on the text: the branches would mispredict.
    for (size_t k = 0; k < items.size(); ++k) {
      const Item& it = items[k];
      const Slot& slot = slots[k];
      uint64_t* w = st + slot.offset;
      bool next = exits(slot) | (enter & (it.min == 0));
      uint64_t keep = sets[it.set].Has(c) ? ~uint64_t{0} : 0;
      uint64_t v = w[0];
      switch (slot.kind) {
        case Slot::kHighest:
          v = v ? std::min<uint64_t>(v + 1, slot.limit) : enter;
          w[0] = v & keep;
          alive |= w[0];
          break;
        case Slot::kLowest:
          v = enter ? 1 : (v != 0 && v < slot.limit ? v + 1 : 0);
          w[0] = v & keep;
          alive |= w[0];
          break;
        case Slot::kCounts: {
          uint64_t carry = enter;
          for (uint32_t j = 0; j < slot.words; ++j) {
            uint64_t x = w[j];
            w[j] = ((x << 1) | carry) & keep;
            carry = x >> 63;
          }
          w[slot.words - 1] &= slot.last_mask;
          for (uint32_t j = 0; j < slot.words; ++j) alive |= w[j];
          break;
        }
      }
      enter = next;
    }
    at_start = false;
    if (!alive) return false;
  }
  bool enter = at_start;
  for (size_t k = 0; k < items.size(); ++k) enter = exits(slots[k]) || (enter && items[k].min == 0);
  return enter;
}

std::optional<Pattern> Pattern::Compile(std::string_view re2_pattern) {
  std::vector<RawItem> raw;
  if (!Parser(re2_pattern).Parse(raw)) return std::nullopt;
  auto prog = Build(std::move(raw));
  if (!prog) return std::nullopt;
  return Pattern(std::move(prog));
}

bool Pattern::FullMatch(std::string_view text) const {
  const Program& p = *program_;
  // A code point takes 1 to 4 bytes.
  if (text.size() < p.min_len) return false;
  if (p.max_len && text.size() > 4 * *p.max_len) return false;
  if (p.fixed) return p.MatchFixed(text);
  if (p.greedy) return p.MatchGreedy(text);
  if (p.bitset) return p.MatchBitset(text);
  return p.MatchPerItem(text);
}

std::optional<bool> Pattern::FullMatchWith(Strategy strategy, std::string_view text) const {
  const Program& p = *program_;
  switch (strategy) {
    case Strategy::kFixed:
      if (!p.fixed) return std::nullopt;
      return p.MatchFixed(text);
    case Strategy::kGreedy:
      if (!p.greedy) return std::nullopt;
      return p.MatchGreedy(text);
    case Strategy::kBitset:
      if (!p.bitset) return std::nullopt;
      return p.MatchBitset(text);
    case Strategy::kPerItem:
      return p.MatchPerItem(text);
  }
  return std::nullopt;
}

size_t Pattern::min_length() const { return program_->min_len; }
std::optional<size_t> Pattern::max_length() const { return program_->max_len; }

bool SupportsPattern(std::string_view re2_pattern) {
  return Pattern::Compile(re2_pattern).has_value();
}

// The SQL function.

namespace {

inline std::string_view View(duckdb_string_t& s) {
  // duckdb.h's layout: up to 12 bytes inline, longer strings by pointer.
  uint32_t len = s.value.inlined.length;
  return {len <= 12 ? s.value.inlined.inlined : s.value.pointer.ptr, len};
}

inline bool Valid(const uint64_t* validity, idx_t row) {
  return !validity || (validity[row / 64] >> (row % 64)) & 1;
}

void PatternMatch(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector values = duckdb_data_chunk_get_vector(input, 0);
  duckdb_vector patterns = duckdb_data_chunk_get_vector(input, 1);
  auto* value_data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(values));
  auto* pattern_data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(patterns));
  const uint64_t* value_valid = duckdb_vector_get_validity(values);
  const uint64_t* pattern_valid = duckdb_vector_get_validity(patterns);
  auto* out = static_cast<bool*>(duckdb_vector_get_data(output));
  uint64_t* out_valid = nullptr;

  // The pattern is compiled once per distinct pattern in the chunk (in practice: once). All of
  // this is local to the call, so calls from several threads share nothing.
  std::unordered_map<std::string, std::optional<Pattern>> compiled;
  std::string_view last_text;
  const Pattern* last = nullptr;
  for (idx_t row = 0; row < n; ++row) {
    if (!Valid(value_valid, row) || !Valid(pattern_valid, row)) {
      if (!out_valid) {
        duckdb_vector_ensure_validity_writable(output);
        out_valid = duckdb_vector_get_validity(output);
      }
      duckdb_validity_set_row_invalid(out_valid, row);
      out[row] = false;
      continue;
    }
    std::string_view pattern_text = View(pattern_data[row]);
    if (!last || pattern_text != last_text) {
      auto [it, added] = compiled.try_emplace(std::string(pattern_text));
      if (added) it->second = Pattern::Compile(pattern_text);
      if (!it->second) {
        std::string message = fmt::format("{}: pattern {} is not supported, use regexp_full_match",
                                          kPatternMatchFunction, SqlString(pattern_text));
        duckdb_scalar_function_set_error(info, message.c_str());
        return;
      }
      last = &*it->second;
      last_text = it->first;
    }
    out[row] = last->FullMatch(View(value_data[row]));
  }
}

struct LogicalType {
  explicit LogicalType(duckdb_type t) : type(duckdb_create_logical_type(t)) {}
  ~LogicalType() { duckdb_destroy_logical_type(&type); }
  duckdb_logical_type type;
};

}  // namespace

void RegisterPatternMatch(Connection& conn) {
  duckdb_scalar_function f = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(f, kPatternMatchFunction);
  LogicalType varchar(DUCKDB_TYPE_VARCHAR), boolean(DUCKDB_TYPE_BOOLEAN);
  duckdb_scalar_function_add_parameter(f, varchar.type);
  duckdb_scalar_function_add_parameter(f, varchar.type);
  duckdb_scalar_function_set_return_type(f, boolean.type);
  duckdb_scalar_function_set_function(f, &PatternMatch);
  duckdb_state state = duckdb_register_scalar_function(conn.handle(), f);
  duckdb_destroy_scalar_function(&f);
  // Registering it again fails (asking duckdb_functions() first would cost more, every time).
  if (state == DuckDBError && !HasFunction(conn, kPatternMatchFunction, "scalar")) {
    Fail(ErrorKind::kInternal, "cannot register SQL function {}", kPatternMatchFunction);
  }
}

}  // namespace sluice::engine
