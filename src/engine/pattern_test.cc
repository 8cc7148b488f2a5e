#include "engine/pattern.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::engine {
namespace {

using Strategy = Pattern::Strategy;

constexpr Strategy kStrategies[] = {Strategy::kFixed, Strategy::kGreedy, Strategy::kBitset,
                                    Strategy::kPerItem};

// FullMatch, checking that every strategy that applies says the same.
bool Match(std::string_view pattern, std::string_view text) {
  auto p = Pattern::Compile(pattern);
  EXPECT_TRUE(p) << pattern;
  if (!p) return false;
  bool match = p->FullMatch(text);
  for (Strategy s : kStrategies) {
    auto other = p->FullMatchWith(s, text);
    if (other) {
      EXPECT_EQ(*other, match) << "strategy " << static_cast<int>(s) << " pattern " << pattern;
    }
  }
  return match;
}

bool Applies(std::string_view pattern, Strategy strategy) {
  return Pattern::Compile(pattern)->FullMatchWith(strategy, "").has_value();
}

TEST(PatternSubset, AcceptsTheUsualRulePatterns) {
  for (const char* p : {"[0-9a-f]{64}",
                        "[A-Z]{2}",
                        "[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}",
                        "[^@]+@[^@]+",
                        "ORD-[0-9]{6}",
                        "[a-z]+",
                        R"(\d{3}-\d{2}-\d{4})",
                        R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})",
                        "^[a-z]*$",
                        "",
                        "a?b*c+",
                        R"(\.\-\+\\\[\]\{\}\(\)\|\^\$\*\?\/\_)",
                        "[]a]",
                        "[^]a]",
                        "[a-]",
                        "[-a]",
                        R"([\]\-\\^])",
                        R"([\d\s_]{0,3})",
                        R"(\D\W\S)",
                        "x{0}",
                        "x{2,}",
                        "é{2}[à-ü€]+.",
                        R"(\n\t\r\f\v\a)",
                        "a]}",
                        "[[]",
                        "^",
                        "$",
                        "^$",
                        R"([\d-z])"}) {
    EXPECT_TRUE(SupportsPattern(p)) << p;
  }
}

TEST(PatternSubset, RefusesEverythingElse) {
  for (const char* p : {"(ab)+",
                        "(a)",
                        "a|b",
                        "(?i)abc",
                        "(?:a)",
                        R"((a)\1)",
                        R"(\1)",
                        "(?=a)",
                        "(?!a)",
                        "(?<=a)b",
                        "a+?",
                        "a*?",
                        "a??",
                        "a{2}?",
                        "a**",
                        "a+*",
                        "a{2}{3}",
                        "a*{2}",
                        "*a",
                        "+",
                        "?",
                        "{2}",
                        "a{x}",
                        "a{",
                        "a{,3}",
                        "a{1, 2}",
                        "a{01}",
                        "a{1001}",
                        "a{0,1001}",
                        "a{3,2}",
                        "[z-a]",
                        "[abc",
                        "[",
                        "[]",
                        "[^]",
                        "a\\",
                        R"(\x41)",
                        R"(\x{41})",
                        R"(\0)",
                        R"(\101)",
                        R"(\Qa.b\E)",
                        R"(\C)",
                        R"(\z)",
                        R"(\A)",
                        R"(\b)",
                        R"(\Bx)",
                        R"(\pL)",
                        R"(\p{Greek})",
                        R"([\pL])",
                        R"(\PL)",
                        "[[:alpha:]]",
                        "[[:^digit:]]",
                        R"(\q)",
                        R"(\é)",
                        "a^b",
                        "a$b",
                        "$a",
                        "^^a",
                        "a$$",
                        "^*",
                        "a{500}b{500}c",
                        "\xff",
                        "a\xc3",
                        R"([a-\d])"}) {
    EXPECT_FALSE(SupportsPattern(p)) << p;
  }
}

TEST(PatternMatch, HandCases) {
  EXPECT_TRUE(Match("[0-9a-f]{64}", std::string(64, 'a')));
  EXPECT_FALSE(Match("[0-9a-f]{64}", std::string(63, 'a')));
  EXPECT_FALSE(Match("[0-9a-f]{64}", std::string(65, 'a')));
  EXPECT_FALSE(Match("[0-9a-f]{64}", std::string(63, 'a') + "A"));
  EXPECT_TRUE(Match("ORD-[0-9]{6}", "ORD-123456"));
  EXPECT_FALSE(Match("ORD-[0-9]{6}", "ORD-12345x"));
  EXPECT_TRUE(Match("[^@]+@[^@]+", "a@b"));
  EXPECT_TRUE(Match("[^@]+@[^@]+", "é\n@€"));  // negated classes take \n and whole characters
  EXPECT_FALSE(Match("[^@]+@[^@]+", "a@b@c"));
  EXPECT_FALSE(Match("[^@]+@[^@]+", "@b"));
  EXPECT_TRUE(Match(R"(\d{3}-\d{2}-\d{4})", "123-45-6789"));
  EXPECT_FALSE(Match(R"(\d{3}-\d{2}-\d{4})", "123-456-789"));
  const char* email = R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})";
  EXPECT_TRUE(Match(email, "john.doe+x@mail.example.org"));
  EXPECT_FALSE(Match(email, "john@example.c"));
  EXPECT_FALSE(Match(email, "jöhn@example.com"));
  EXPECT_TRUE(Match("[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", "DE89370400440532013000"));
  EXPECT_FALSE(Match("[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", "DE89"));
  // Overlapping classes need every split tried, not a greedy one.
  EXPECT_TRUE(Match("[a-z]+[a-z0-9]*z", "abcz"));
  EXPECT_TRUE(Match("a*a{3}a?", "aaa"));
  EXPECT_FALSE(Match("a*a{3}a?", "aa"));
  EXPECT_TRUE(Match("x?y?z?", ""));
  EXPECT_TRUE(Match("", ""));
  EXPECT_FALSE(Match("", "a"));
  // Code points, not bytes.
  EXPECT_TRUE(Match(".{3}", "é€😀"));
  EXPECT_FALSE(Match("[^a]{2}", "é"));
  EXPECT_TRUE(Match("[^a]", "😀"));
  EXPECT_FALSE(Match(".", "\n"));
  EXPECT_TRUE(Match(R"(\D)", "\n"));
  EXPECT_FALSE(Match(R"(\s)", "\v"));  // RE2's \s is [\t\n\f\r ]
  EXPECT_TRUE(Match("[à-ü]+", "éü"));
  EXPECT_FALSE(Match("[à-ü]+", "éz"));
  // Bad UTF-8 (DuckDB never has it) matches nothing, read forwards or backwards.
  EXPECT_FALSE(Match(".", "\xff"));
  EXPECT_FALSE(Match("[^a]", "\xc3"));
  EXPECT_FALSE(Match(".+", "\xf0\x9f\x98"));
  EXPECT_FALSE(Match(".*x", "\xa9x"));
  EXPECT_FALSE(Match(".*x", "\xc3\xa9\xa9x"));
  EXPECT_FALSE(Match("[^a]*b",
                     "\xe9"
                     "b"));
  EXPECT_TRUE(Match(".*x", "é€😀x"));
  // Split one way only: greedy from the start, and from the end for the rest.
  EXPECT_TRUE(Match("[a-z]+[a-z0-9]{2}", "abc12"));
  EXPECT_FALSE(Match("[a-z]+[a-z0-9]{2}", "ab1c2"));
  EXPECT_TRUE(Match(".*[0-9]", "é€1"));
  EXPECT_FALSE(Match(".*[0-9]", "1é"));
  EXPECT_TRUE(Match("[^@]+@.{2,4}", "a@b@c"));
  EXPECT_FALSE(Match("[^@]+@.{2,4}", "a@b@cde"));
  // Big counts: past one machine word of states.
  EXPECT_TRUE(Match("a{100}b{0,200}", std::string(100, 'a') + std::string(150, 'b')));
  EXPECT_FALSE(Match("a{100}b{0,200}", std::string(99, 'a') + std::string(150, 'b')));
  EXPECT_TRUE(Match("[ab]{1,300}b{100}", std::string(250, 'b')));
  // Which way the usual patterns go (for speed; the answers are the same).
  EXPECT_TRUE(Applies("[0-9a-f]{64}", Strategy::kFixed));
  EXPECT_TRUE(Applies(R"(\d{3}-\d{2}-\d{4})", Strategy::kFixed));
  EXPECT_TRUE(Applies("[^@]+@[^@]+", Strategy::kGreedy));
  EXPECT_TRUE(Applies(email, Strategy::kGreedy));
  EXPECT_TRUE(Applies("[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", Strategy::kGreedy));
  EXPECT_TRUE(Applies(".*[0-9]", Strategy::kGreedy));
  EXPECT_FALSE(Applies("[a-z]+[a-z0-9]*z", Strategy::kGreedy));
  EXPECT_TRUE(Applies("[a-z]+[a-z0-9]*z", Strategy::kBitset));
  EXPECT_FALSE(Applies("a{100}b{0,200}", Strategy::kBitset));
  auto p = Pattern::Compile("ab{2,5}c*");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->min_length(), 3u);
  EXPECT_EQ(p->max_length(), std::nullopt);
  EXPECT_EQ(Pattern::Compile("a[bc]{1,5}")->max_length(), 6u);
}

// ---- Differential test against DuckDB's regexp_full_match (RE2) ----

// SLUICE_PATTERN_SEED=n runs the differential test on other random patterns and values.
std::mt19937& Rng() {
  static std::mt19937 rng([] {
    const char* seed = std::getenv("SLUICE_PATTERN_SEED");
    return seed ? static_cast<unsigned>(std::strtoul(seed, nullptr, 10)) : 20240611u;
  }());
  return rng;
}
size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(Rng()); }
bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(Rng()) < p; }
template <typename T>
const T& PickOf(const std::vector<T>& v) {
  return v[Pick(v.size())];
}

// Characters the values are made of (and what negated classes may be sampled from).
const std::vector<std::string> kAlphabet = {"a",  "b",  "c",  "x", "z", "A", "Z", "0", "5",  "9",
                                            "-",  "@",  "_",  "%", ":", " ", "/", ".", "]",  "[",
                                            "\\", "^",  "$",  "{", "}", "*", "+", "~", "\n", "\t",
                                            "\r", "\f", "\v", "é", "ü", "ß", "€", "😀", "à"};

struct GenAtom {
  std::vector<std::string> samples;  // characters it matches (some, maybe)
  uint32_t min, max;
};

struct GenPattern {
  std::string text;
  std::vector<GenAtom> atoms;
};

std::string RangeSample(char32_t lo, char32_t hi) {
  char32_t c = lo + static_cast<char32_t>(Pick(hi - lo + 1));
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

GenAtom ClassMember(std::string& text) {
  struct Lit {
    const char* text;
    const char* value;
  };
  static const std::vector<Lit> singles = {
      {"a", "a"},   {"z", "z"},    {"0", "0"},    {"_", "_"},   {"@", "@"},   {".", "."},
      {"*", "*"},   {"(", "("},    {"$", "$"},    {" ", " "},   {"[", "["},   {"é", "é"},
      {"€", "€"},   {"😀", "😀"},    {"\\]", "]"},  {"\\-", "-"}, {"\\^", "^"}, {"\\\\", "\\"},
      {"\\.", "."}, {"\\n", "\n"}, {"\\t", "\t"}, {"%", "%"},   {"+", "+"}};
  struct Span {
    const char* text;
    char32_t lo, hi;
  };
  static const std::vector<Span> ranges = {
      {"a-f", 'a', 'f'},       {"0-9", '0', '9'},      {"A-Z", 'A', 'Z'}, {"x-z", 'x', 'z'},
      {"à-ü", 0xE0, 0xFC},     {"a-é", 'a', 0xE9},     {"!-/", '!', '/'}, {" -~", ' ', '~'},
      {"\\t-\\r", '\t', '\r'}, {"€-€", 0x20AC, 0x20AC}};
  GenAtom a;
  switch (Pick(4)) {
    case 0:
    case 1: {
      const Lit& l = PickOf(singles);
      text += l.text;
      a.samples.push_back(l.value);
      break;
    }
    case 2: {
      const Span& s = PickOf(ranges);
      text += s.text;
      for (int i = 0; i < 3; ++i) a.samples.push_back(RangeSample(s.lo, s.hi));
      break;
    }
    default: {
      static const std::vector<std::string> perl = {"\\d", "\\D", "\\s", "\\S", "\\w", "\\W"};
      text += PickOf(perl);
      for (int i = 0; i < 3; ++i) a.samples.push_back(PickOf(kAlphabet));
      break;
    }
  }
  return a;
}

// One atom (a literal, `.`, a Perl class or a class) appended to `text`, with no quantifier.
GenAtom RandomAtom(std::string& text) {
  GenAtom a;
  switch (Pick(10)) {
    case 0:
    case 1:
    case 2: {  // literal
      static const std::vector<std::pair<std::string, std::string>> lits = {
          {"a", "a"},     {"b", "b"},    {"Z", "Z"},   {"0", "0"},   {"-", "-"},   {"@", "@"},
          {"_", "_"},     {" ", " "},    {"%", "%"},   {"é", "é"},   {"€", "€"},   {"😀", "😀"},
          {"]", "]"},     {"}", "}"},    {"\\.", "."}, {"\\-", "-"}, {"\\+", "+"}, {"\\*", "*"},
          {"\\?", "?"},   {"\\(", "("},  {"\\[", "["}, {"\\]", "]"}, {"\\{", "{"}, {"\\}", "}"},
          {"\\\\", "\\"}, {"\\^", "^"},  {"\\$", "$"}, {"\\|", "|"}, {"\\/", "/"}, {"\\_", "_"},
          {"\\n", "\n"},  {"\\t", "\t"}, {"\\ ", " "}, {"\\~", "~"}, {"x", "x"}};
      const auto& l = PickOf(lits);
      text += l.first;
      a.samples.push_back(l.second);
      break;
    }
    case 3:  // any character
      text += ".";
      for (int i = 0; i < 4; ++i) a.samples.push_back(PickOf(kAlphabet));
      break;
    case 4: {
      static const std::vector<std::string> perl = {"\\d", "\\D", "\\s", "\\S", "\\w", "\\W"};
      text += PickOf(perl);
      for (int i = 0; i < 4; ++i) a.samples.push_back(PickOf(kAlphabet));
      break;
    }
    default: {  // class
      text += "[";
      bool negated = Chance(0.3);
      if (negated) text += "^";
      if (Chance(0.1)) {
        text += "]";
        a.samples.push_back("]");
      }
      if (Chance(0.1)) {
        text += "-";
        a.samples.push_back("-");
      }
      size_t members = 1 + Pick(3);
      for (size_t m = 0; m < members; ++m) {
        GenAtom member = ClassMember(text);
        a.samples.insert(a.samples.end(), member.samples.begin(), member.samples.end());
      }
      if (Chance(0.1)) {
        text += "-";
        a.samples.push_back("-");
      }
      text += "]";
      if (negated) {
        a.samples.clear();
        for (int i = 0; i < 4; ++i) a.samples.push_back(PickOf(kAlphabet));
      }
      break;
    }
  }
  return a;
}

GenPattern RandomPattern() {
  GenPattern g;
  if (Chance(0.1)) g.text += "^";
  size_t atoms = Pick(6);
  for (size_t k = 0; k < atoms; ++k) {
    GenAtom a = RandomAtom(g.text);
    // Quantifier.
    a.min = a.max = 1;
    switch (Pick(12)) {
      case 0:
        g.text += "*", a.min = 0, a.max = 4;
        break;
      case 1:
        g.text += "+", a.min = 1, a.max = 4;
        break;
      case 2:
        g.text += "?", a.min = 0, a.max = 1;
        break;
      case 3:
        a.min = a.max = static_cast<uint32_t>(Pick(4));
        g.text += fmt::format("{{{}}}", a.min);
        break;
      case 4:
        a.min = static_cast<uint32_t>(Pick(4)), a.max = a.min + 3;
        g.text += fmt::format("{{{},}}", a.min);
        break;
      case 5:
        a.min = static_cast<uint32_t>(Pick(4)), a.max = a.min + static_cast<uint32_t>(Pick(4));
        g.text += fmt::format("{{{},{}}}", a.min, a.max);
        break;
      case 6:
        if (Chance(0.25)) {  // counts past one machine word
          a.min = static_cast<uint32_t>(40 + Pick(60)),
          a.max = a.min + static_cast<uint32_t>(Pick(80));
          g.text += fmt::format("{{{},{}}}", a.min, a.max);
        }
        break;
      default:
        break;
    }
    g.atoms.push_back(std::move(a));
  }
  if (Chance(0.1)) g.text += "$";
  return g;
}

// A value built to (nearly) match the pattern.
std::string NearMatch(const GenPattern& g) {
  std::string out;
  for (const GenAtom& a : g.atoms) {
    uint32_t n = a.min + static_cast<uint32_t>(Pick(a.max - a.min + 1));
    for (uint32_t i = 0; i < n; ++i) out += Chance(0.9) ? PickOf(a.samples) : PickOf(kAlphabet);
  }
  if (Chance(0.4) && !out.empty()) {  // one more, one less or one other byte or character
    size_t at = Pick(out.size());
    while (at > 0 && (static_cast<unsigned char>(out[at]) & 0xC0) == 0x80) --at;  // a boundary
    switch (Pick(3)) {
      case 0:
        out.insert(at, PickOf(kAlphabet));
        break;
      case 1:
        if (static_cast<unsigned char>(out[at]) < 0x80) out.erase(at, 1);
        break;
      default:
        if (static_cast<unsigned char>(out[at]) < 0x80) out.replace(at, 1, PickOf(kAlphabet));
        break;
    }
  }
  return out;
}

std::string RandomValue() {
  std::string out;
  size_t n = Pick(9);
  for (size_t i = 0; i < n; ++i) out += PickOf(kAlphabet);
  return out;
}

// INSERT INTO table VALUES (...), (...) in statements of `batch` rows.
void Insert(Connection& conn, const std::string& table, const std::vector<std::string>& rows) {
  const size_t batch = 2000;
  for (size_t at = 0; at < rows.size(); at += batch) {
    std::vector<std::string> part(rows.begin() + at,
                                  rows.begin() + std::min(rows.size(), at + batch));
    conn.Execute(fmt::format("INSERT INTO {} VALUES {}", table, Join(part, ", ")));
  }
}

// sluice_match(s, P) IS DISTINCT FROM regexp_full_match(s, P) over `from`, P being the SQL
// expression `pattern`: no row may differ.
int64_t ExpectNoDifference(Connection& conn, const std::string& from, const std::string& pattern,
                           const std::string& what) {
  std::string differ =
      fmt::format("sluice_match(s, {0}) IS DISTINCT FROM regexp_full_match(s, {0})", pattern);
  auto r = conn.Query(fmt::format(
      "SELECT count(*), count(*) FILTER (WHERE {}), count(*) FILTER (WHERE regexp_full_match(s, "
      "{})) FROM {}",
      differ, pattern, from));
  int64_t rows = r.GetInt(0, 0), differences = r.GetInt(1, 0), matched = r.GetInt(2, 0);
  if (what.size()) {
    std::printf("[ differential ] %s: %lld rows, %lld full matches, %lld differences\n",
                what.c_str(), static_cast<long long>(rows), static_cast<long long>(matched),
                static_cast<long long>(differences));
    EXPECT_GT(matched, 0);
  }
  EXPECT_EQ(differences, 0) << pattern;
  if (differences) {
    auto d = conn.Query(fmt::format(
        "SELECT {0}, s, sluice_match(s, {0}), regexp_full_match(s, {0}) FROM {1} WHERE {2} "
        "LIMIT 20",
        pattern, from, differ));
    for (size_t i = 0; i < d.row_count(); ++i) {
      ADD_FAILURE() << "pattern " << SqlString(d.GetOr(0, i, "NULL")) << " value "
                    << SqlString(d.GetOr(1, i, "NULL")) << ": sluice_match " << d.GetOr(2, i)
                    << ", regexp_full_match " << d.GetOr(3, i);
    }
  }
  return differences;
}

TEST(PatternMatch, AgreesWithRegexpFullMatch) {
  Database db;
  Connection conn(db);
  RegisterPatternMatch(conn);

  std::vector<GenPattern> patterns;
  size_t refused = 0;
  while (patterns.size() < 400) {
    GenPattern g = RandomPattern();
    if (SupportsPattern(g.text)) {
      patterns.push_back(std::move(g));
    } else {
      ++refused;  // e.g. a random class that reads [x-a]; RE2 refuses those too
    }
  }
  EXPECT_LT(refused, 40u);
  std::vector<std::string> values = {""};
  for (int i = 0; i < 300; ++i) values.push_back(RandomValue());

  conn.Execute(
      "CREATE TABLE pats (id INTEGER, p VARCHAR); CREATE TABLE strs (s VARCHAR);"
      "CREATE TABLE nearm (id INTEGER, s VARCHAR)");
  std::vector<std::string> rows;
  for (size_t i = 0; i < patterns.size(); ++i) {
    rows.push_back(fmt::format("({}, {})", i, SqlString(patterns[i].text)));
  }
  rows.push_back("(-1, NULL)");
  Insert(conn, "pats", rows);
  rows.clear();
  for (const auto& v : values) rows.push_back(fmt::format("({})", SqlString(v)));
  rows.push_back("(NULL)");
  Insert(conn, "strs", rows);
  rows.clear();
  std::vector<std::vector<std::string>> near(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i) {
    for (int k = 0; k < 25; ++k) {
      near[i].push_back(NearMatch(patterns[i]));
      rows.push_back(fmt::format("({}, {})", i, SqlString(near[i].back())));
    }
  }
  Insert(conn, "nearm", rows);

  ExpectNoDifference(conn, "pats, strs", "p", "random values x patterns");
  ExpectNoDifference(conn, "pats JOIN nearm USING (id)", "p", "near-matches");
  // Constant patterns too: DuckDB compiles (and may rewrite) regexp_full_match for those.
  int64_t constant_rows = 0, constant_differences = 0;
  for (size_t i = 0; i < 40; ++i) {
    std::string from =
        fmt::format("(SELECT s FROM strs UNION ALL SELECT s FROM nearm WHERE id = {})", i);
    constant_differences += ExpectNoDifference(conn, from, SqlString(patterns[i].text), "");
    constant_rows += conn.Query("SELECT count(*) FROM " + from).GetInt(0, 0);
  }
  std::printf("[ differential ] 40 constant patterns: %lld rows, %lld differences\n",
              static_cast<long long>(constant_rows), static_cast<long long>(constant_differences));

  // Every strategy that applies gives FullMatch's answer (checked against RE2 above).
  size_t compared[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < patterns.size(); ++i) {
    auto p = Pattern::Compile(patterns[i].text);
    ASSERT_TRUE(p);
    auto check = [&](const std::string& v) {
      bool want = p->FullMatch(v);
      for (int s = 0; s < 4; ++s) {
        auto got = p->FullMatchWith(kStrategies[s], v);
        if (!got) continue;
        ++compared[s];
        EXPECT_EQ(*got, want) << "strategy " << s << " pattern " << SqlString(patterns[i].text)
                              << " value " << SqlString(v);
      }
    };
    for (const auto& v : values) check(v);
    for (const auto& v : near[i]) check(v);
  }
  std::printf(
      "[ differential ] strategy cross-checks: fixed %zu, greedy %zu, bitset %zu, per-item %zu\n",
      compared[0], compared[1], compared[2], compared[3]);
  for (size_t c : compared) EXPECT_GT(c, 0u);
}

// Fixed patterns of 16 characters or more (hashes, ids, codes) are matched 16 bytes at a time:
// every block boundary and set mix, and the last block overlapping the one before it.
TEST(PatternMatch, LongFixedPatternsAgreeWithRegexpFullMatch) {
  Database db;
  Connection conn(db);
  RegisterPatternMatch(conn);
  std::vector<std::string> rows;
  size_t patterns = 0, blocks_match = 0, blocks_differ = 0;
  while (patterns < 300) {
    GenPattern g;
    uint32_t length = 0;
    while (length < 16 || Chance(0.5)) {
      GenAtom a = RandomAtom(g.text);
      a.min = a.max = 1 + static_cast<uint32_t>(Pick(Chance(0.5) ? 4 : 40));
      g.text += fmt::format("{{{}}}", a.min);
      length += a.min;
      g.atoms.push_back(std::move(a));
    }
    auto p = Pattern::Compile(g.text);
    if (!p || !p->FullMatchWith(Pattern::Strategy::kFixed, "")) continue;
    ++patterns;
    for (int k = 0; k < 30; ++k) {
      // Each character from its class, then maybe one ASCII character anywhere changed.
      std::string v;
      for (const GenAtom& a : g.atoms) {
        for (uint32_t i = 0; i < a.min; ++i) v += PickOf(a.samples);
      }
      size_t at = Pick(v.size());
      if (Chance(0.5) && static_cast<unsigned char>(v[at]) < 0x80) {
        v[at] = static_cast<char>(32 + Pick(95));
      }
      // As many bytes as the pattern has characters: the blocks decide.
      if (v.size() == p->min_length()) ++(p->FullMatch(v) ? blocks_match : blocks_differ);
      rows.push_back(fmt::format("({}, {})", SqlString(g.text), SqlString(v)));
    }
  }
  conn.Execute("CREATE TABLE fixed (p VARCHAR, s VARCHAR)");
  Insert(conn, "fixed", rows);
  ExpectNoDifference(conn, "fixed", "p", "long fixed patterns x near-matches");
  std::printf("[ differential ] decided by 16-byte blocks: %zu matches, %zu not\n", blocks_match,
              blocks_differ);
  EXPECT_GT(blocks_match, 300u);
  EXPECT_GT(blocks_differ, 300u);
}

TEST(PatternMatch, SqlFunctionNullsErrorsAndRegistration) {
  Database db;
  Connection a(db), b(db);
  RegisterPatternMatch(a);
  RegisterPatternMatch(a);  // idempotent
  RegisterPatternMatch(b);  // same database: already there
  auto r = b.Query(
      "SELECT sluice_match('ORD-123456', 'ORD-[0-9]{6}'), sluice_match('x', 'ORD-[0-9]{6}'), "
      "sluice_match(NULL, 'a'), sluice_match('a', NULL)");
  EXPECT_EQ(r.GetOr(0, 0), "true");
  EXPECT_EQ(r.GetOr(1, 0), "false");
  EXPECT_FALSE(r.Get(2, 0));
  EXPECT_FALSE(r.Get(3, 0));
  try {
    a.Query("SELECT sluice_match(s, '(a|b)+') FROM (VALUES ('a')) t(s)");
    FAIL() << "an unsupported pattern must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sluice::engine
