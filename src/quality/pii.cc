#include "quality/pii.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <regex>
#include <unordered_map>

#include "common/error.h"

namespace sluice::quality {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return IsLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view TrimView(std::string_view v) {
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
  return v;
}

bool AllDigits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), IsDigit);
}

int Number(std::string_view digits) {  // digits only, short
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

// ---- value entities ------------------------------------------------------------------------

enum Entity : int { kEmail, kPhone, kCard, kIp, kMac, kSsn, kIban, kValueEntityCount };
constexpr const char* kValueEntityNames[kValueEntityCount] = {
    "EMAIL", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "MAC_ADDRESS", "USA_SSN", "IBAN"};

// RFC 5322 atext: the characters of an unquoted local part, besides dots.
bool IsAtext(char c) {
  return IsAlnum(c) || (c != '\0' && std::strchr("!#$%&'*+/=?^_`{|}~-", c) != nullptr);
}

// Digit-group shape of a phone-like value.
struct PhoneShape {
  int groups[8] = {};
  int count = 0;
  int digits = 0;
  char d[17] = {};       // the digits
  int paren_group = -1;  // index of the parenthesised group
  bool space = false, dash = false, dot = false;
  int slashes = 0;
};

bool ParsePhone(std::string_view v, PhoneShape& s) {
  bool in_paren = false;
  int cur = 0;
  char prev = '\0';  // the previous character ('\0' at the start, after '+')
  for (char c : v) {
    if (IsDigit(c)) {
      ++cur;
      if (s.digits == 17) return false;
      s.d[s.digits++] = c;
      prev = c;
      continue;
    }
    if (cur > 0) {
      if (s.count == 8) return false;
      s.groups[s.count++] = cur;
      cur = 0;
    }
    switch (c) {
      case '(':  // also right after digits: +49(0)30 12345678
        if (in_paren || s.paren_group >= 0 || prev == ')') return false;
        in_paren = true;
        break;
      case ')':
        if (!in_paren || !IsDigit(prev)) return false;
        in_paren = false;
        s.paren_group = s.count - 1;
        break;
      case ' ':
      case '-':
      case '.':
        if (in_paren || !(IsDigit(prev) || (prev == ')' && c != '.'))) return false;
        (c == ' ' ? s.space : c == '-' ? s.dash : s.dot) = true;
        break;
      case '/':  // 030/12345678
        if (in_paren || !IsDigit(prev) || s.count != 1 || s.slashes++) return false;
        break;
      default:
        return false;
    }
    prev = c;
  }
  if (!IsDigit(prev) || in_paren) return false;
  if (s.count == 8) return false;
  s.groups[s.count++] = cur;
  return true;
}

// The number without a trailing extension of 1-5 digits after a space and "x", "ext" or
// "ext." ("555-123-4567 x6280", "(555) 123-4567 ext. 12"); `v` itself when there is none.
std::string_view WithoutPhoneExtension(std::string_view v) {
  size_t i = v.size();
  while (i > 0 && IsDigit(v[i - 1])) --i;
  if (i == v.size() || v.size() - i > 5) return v;
  std::string_view head = v.substr(0, i);
  if (!head.empty() && head.back() == ' ') head.remove_suffix(1);  // "x 12", "ext. 12"
  for (std::string_view mark : {" x", " ext", " ext."}) {
    if (head.size() <= mark.size()) continue;
    std::string_view tail = head.substr(head.size() - mark.size());
    bool same = true;
    for (size_t k = 0; k < mark.size(); ++k) same &= Lower(tail[k]) == mark[k];
    if (same) return head.substr(0, head.size() - mark.size());
  }
  return v;
}

// ---- card IINs ---------------------------------------------------------------------------

struct Iin {
  int lo, hi;  // prefix range, inclusive
  int digits;  // how many leading digits lo/hi have
  int min_len, max_len;
  bool only_13_16_19;  // Visa
};

constexpr Iin kIins[] = {
    {4, 4, 1, 13, 19, true},         // Visa
    {51, 55, 2, 16, 16, false},      // Mastercard
    {2221, 2720, 4, 16, 16, false},  // Mastercard 2-series
    {34, 34, 2, 15, 15, false},      // Amex
    {37, 37, 2, 15, 15, false},      // Amex
    {6011, 6011, 4, 16, 19, false},  // Discover
    {644, 649, 3, 16, 19, false},    // Discover
    {65, 65, 2, 16, 19, false},      // Discover
    {3528, 3589, 4, 16, 19, false},  // JCB
    {62, 62, 2, 16, 19, false},      // UnionPay (and Discover 622126-622925)
    {8100, 8171, 4, 16, 19, false},  // UnionPay
    {300, 305, 3, 14, 19, false},    // Diners Club
    {36, 36, 2, 14, 19, false},      // Diners Club International
    {38, 39, 2, 14, 19, false},      // Diners Club
    {50, 50, 2, 13, 19, false},      // Maestro
    {56, 58, 2, 13, 19, false},      // Maestro
    {6304, 6304, 4, 13, 19, false},  // Maestro
    {67, 67, 2, 13, 19, false},      // Maestro
};

bool IinKnown(const char* digits, int n) {
  for (const Iin& iin : kIins) {
    int prefix = 0;
    for (int i = 0; i < iin.digits; ++i) prefix = prefix * 10 + (digits[i] - '0');
    if (prefix < iin.lo || prefix > iin.hi) continue;
    if (n < iin.min_len || n > iin.max_len) continue;
    if (iin.only_13_16_19 && n != 13 && n != 16 && n != 19) continue;
    return true;
  }
  return false;
}

// ---- IBAN registry -------------------------------------------------------------------------

struct IbanCountry {
  char code[3];
  int length;
};

// The SWIFT IBAN registry: country code and IBAN length; also IR (Iran), whose national IBAN
// (the Sheba number) follows ISO 13616 though Iran is not in the SWIFT registry.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IR", 26}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

int IbanLength(char a, char b) {
  for (const IbanCountry& c : kIbanCountries) {
    if (c.code[0] == a && c.code[1] == b) return c.length;
  }
  return 0;
}

// ---- custom entities -------------------------------------------------------------------

const std::regex& CompiledRegex(const CustomEntity& entity) {
  thread_local std::unordered_map<std::string, std::regex> cache;
  auto it = cache.find(entity.regex);
  if (it != cache.end()) return it->second;
  if (cache.size() > 256) cache.clear();
  try {
    return cache
        .emplace(entity.regex,
                 std::regex(entity.regex, std::regex::ECMAScript | std::regex::optimize))
        .first->second;
  } catch (const std::regex_error& e) {
    FailWithCode(ErrorKind::kConfig, "config.bad_regex",
                 "sensitive-data entity '{}': invalid regex '{}': {}", entity.name, entity.regex,
                 e.what());
  }
}

bool MatchesCustom(std::string_view value, const CustomEntity& entity) {
  const std::regex& re = CompiledRegex(entity);
  return std::regex_match(value.begin(), value.end(), re);
}

// Bit i set: the trimmed value is kValueEntityNames[i].
uint32_t ClassifyBuiltin(std::string_view v) {
  if (v.empty() || v.size() > 254) return 0;
  bool at = false, colon = false, letter = false;
  for (char c : v) {
    at |= c == '@';
    colon |= c == ':';
    letter |= IsAlpha(c);
  }
  uint32_t mask = 0;
  if (at) return IsEmail(v) ? 1u << kEmail : 0;
  if (colon) {
    if (IsMacAddress(v)) mask |= 1u << kMac;
    if (IsIpv6(v)) mask |= 1u << kIp;
    return mask;
  }
  if (letter) {
    if (IsMacAddress(v)) mask |= 1u << kMac;
    if (IbanValid(v)) mask |= 1u << kIban;
    if (IsPhoneNumber(v)) mask |= 1u << kPhone;  // with an extension: "555-123-4567 x12"
    return mask;
  }
  if (IsPhoneNumber(v)) mask |= 1u << kPhone;
  if (IsCreditCard(v)) mask |= 1u << kCard;
  if (IsIpv4(v)) mask |= 1u << kIp;
  if (IsMacAddress(v)) mask |= 1u << kMac;
  if (IsUsaSsn(v)) mask |= 1u << kSsn;
  return mask;
}

// ---- column names --------------------------------------------------------------------------

// Lower-case words of a column name: snake_case, kebab-case, spaces and camelCase/PascalCase
// boundaries ("IPAddress" -> ip, address). Letters and digits stay together ("ipv4").
std::vector<std::string> NameWords(std::string_view name) {
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!IsAlnum(c)) {
      if (!cur.empty()) {
        words.push_back(std::move(cur));
        cur.clear();
      }
      continue;
    }
    if (IsUpper(c) && !cur.empty()) {
      char p = name[i - 1];
      bool next_lower = i + 1 < name.size() && IsLower(name[i + 1]);
      if (IsLower(p) || IsDigit(p) || (IsUpper(p) && next_lower)) {
        words.push_back(std::move(cur));
        cur.clear();
      }
    }
    cur += Lower(c);
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

// Whether a run of consecutive column words spells `phrase` (its words joined: "emp id" and
// "empid" both match emp_id and EmpId).
bool HasPhrase(const std::vector<std::string>& words, std::string_view phrase) {
  std::string want;
  for (char c : phrase) {
    if (IsAlnum(c)) want += Lower(c);
  }
  if (want.empty()) return false;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string run;
    for (size_t j = i; j < words.size() && run.size() < want.size(); ++j) {
      run += words[j];
      if (run == want) return true;
    }
  }
  return false;
}

bool HasAnyPhrase(const std::vector<std::string>& words, std::initializer_list<const char*> list) {
  for (const char* phrase : list) {
    if (HasPhrase(words, phrase)) return true;
  }
  return false;
}

bool HasContext(const std::vector<std::string>& words, int entity) {
  switch (entity) {
    case kEmail:
      return HasAnyPhrase(words, {"email", "mail", "emailaddress"});
    case kPhone:
      return HasAnyPhrase(words, {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax",
                                  "msisdn", "phonenumber", "phoneno", "telno"});
    case kCard:
      return HasAnyPhrase(words,
                          {"card", "cc", "ccnum", "pan", "creditcard", "cardnumber", "cardno"});
    case kIp:
      return HasAnyPhrase(words, {"ip", "ipv4", "ipv6", "ipaddress", "ipaddr"});
    case kMac:
      return HasAnyPhrase(words, {"mac", "macaddress", "macaddr", "hwaddr", "bssid"});
    case kSsn:
      return HasAnyPhrase(words, {"ssn", "social security", "socsec"});
    case kIban:
      return HasAnyPhrase(words, {"iban", "bank account", "account number"});
    default:
      return false;
  }
}

// 1 for a person-name column (first_name, customer_name, ...), 0.6 for a bare "name", else 0.
double PersonNameStrength(const std::vector<std::string>& words) {
  if (HasAnyPhrase(words,
                   {"first name",     "last name",        "full name",        "surname",
                    "forename",       "forenames",        "given name",       "family name",
                    "middle name",    "maiden name",      "person name",      "customer name",
                    "client name",    "contact name",     "employee name",    "patient name",
                    "student name",   "member name",      "owner name",       "holder name",
                    "cardholder",     "account holder",   "passenger name",   "guest name",
                    "driver name",    "author name",      "recipient name",   "sender name",
                    "buyer name",     "seller name",      "manager name",     "applicant name",
                    "candidate name", "beneficiary name", "spouse name",      "parent name",
                    "mother name",    "father name",      "legal name",       "name on card",
                    "teacher name",   "doctor name",      "physician name",   "name first",
                    "name last",      "name full",        "emergency contact"})) {
    return 1;
  }
  if (words.size() == 1 && (words[0] == "name" || words[0] == "names")) return 0.6;
  return 0;
}

bool IsBirthDateName(const std::vector<std::string>& words) {
  if (HasAnyPhrase(words, {"dob", "date of birth", "birth date", "birthday", "birth dt", "born on",
                           "bday"})) {
    return true;
  }
  return words.size() == 1 && (words[0] == "born" || words[0] == "birth");
}

bool IsDateType(std::string_view type) {
  std::string t;
  for (char c : type) t += Upper(c);
  return t.rfind("DATE", 0) == 0 || t.rfind("TIMESTAMP", 0) == 0;
}

bool IsIntegerType(std::string_view type) {
  std::string t;
  for (char c : type) t += Upper(c);
  return t == "INT" || t == "INTEGER" || t == "BIGINT" || t == "HUGEINT" || t == "UINTEGER" ||
         t == "UBIGINT" || t == "UHUGEINT" || t == "INT4" || t == "INT8" || t == "INT32" ||
         t == "INT64" || t == "INT128";
}

// ---- person names and dates ----------------------------------------------------------------

bool IsParticle(std::string_view w) {
  static constexpr std::string_view kParticles[] = {
      "van", "von",   "de", "da", "del", "della", "der", "den", "di", "du",  "la",  "le",
      "bin", "binti", "al", "el", "ibn", "y",     "dos", "das", "do", "ten", "ter", "zu"};
  return std::find(std::begin(kParticles), std::end(kParticles), w) != std::end(kParticles);
}

// A capitalised word of a name: "Anna", "O'Brien", "Jean-Luc", "McDonald", "J.", "ÉMILE".
bool IsNameWord(std::string_view w) {
  if (w.empty() || w.size() > 40) return false;
  if (!IsUpper(w[0]) && !IsNonAscii(w[0])) return false;
  for (char c : w) {
    if (!(IsAlpha(c) || IsNonAscii(c) || c == '\'' || c == '-' || c == '.')) return false;
  }
  return true;
}

bool IsPersonNameShaped(std::string_view v) {
  if (v.empty() || v.size() > 100) return false;
  int words = 0, name_words = 0;
  bool comma = false;
  size_t i = 0;
  while (i < v.size()) {
    size_t end = v.find(' ', i);
    if (end == std::string_view::npos) end = v.size();
    std::string_view w = v.substr(i, end - i);
    if (w.empty()) return false;  // double space
    if (w.back() == ',') {        // "Doe, Jane"
      if (comma || end == v.size()) return false;
      comma = true;
      w.remove_suffix(1);
    }
    if (IsNameWord(w)) {
      ++name_words;
    } else if (!IsParticle(w)) {  // "van der Berg", "Ludwig van Beethoven"
      return false;
    }
    if (++words > 5) return false;
    i = end + 1;
    if (end == v.size()) break;
    if (i == v.size()) return false;  // trailing space
  }
  return name_words > 0;
}

int MonthFromName(std::string_view w) {
  static constexpr std::string_view kMonths[] = {"january",   "february", "march",    "april",
                                                 "may",       "june",     "july",     "august",
                                                 "september", "october",  "november", "december"};
  if (w.size() < 3) return 0;
  std::string lw;
  for (char c : w) lw += Lower(c);
  if (lw.back() == '.') lw.pop_back();
  if (lw == "sept") return 9;
  for (int m = 0; m < 12; ++m) {
    if (lw.size() >= 3 && lw.size() <= kMonths[m].size() && kMonths[m].substr(0, lw.size()) == lw) {
      return m + 1;
    }
  }
  return 0;
}

bool ValidYmd(int y, int m, int d) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return y >= 1850 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= kDays[m - 1];
}

// A calendar date, with an optional time after it: 1985-03-05, 1985-03-05T10:00:00Z,
// 1985/03/05, 05/03/1985, 3/5/1985, 05.03.1985, 19850305, 5 Mar 1985, March 5, 1985, 05-Mar-1985.
bool IsDateLike(std::string_view v) {
  if (v.size() < 8 || v.size() > 40) return false;
  if (v.size() == 8 && AllDigits(v)) {
    return ValidYmd(Number(v.substr(0, 4)), Number(v.substr(4, 2)), Number(v.substr(6, 2)));
  }
  // Numeric with separators: cut off a time part.
  auto time_cut = [](std::string_view s, size_t at) {
    return at == s.size() || ((s[at] == 'T' || s[at] == ' ') && at + 1 < s.size());
  };
  if (v.size() >= 10 && AllDigits(v.substr(0, 4)) && (v[4] == '-' || v[4] == '/' || v[4] == '.') &&
      v[7] == v[4] && AllDigits(v.substr(5, 2)) && AllDigits(v.substr(8, 2)) && time_cut(v, 10)) {
    return ValidYmd(Number(v.substr(0, 4)), Number(v.substr(5, 2)), Number(v.substr(8, 2)));
  }
  {
    // d/m/yyyy or m/d/yyyy (also with '-' or '.')
    size_t i = 0;
    auto digits = [&](size_t max) {
      size_t start = i;
      while (i < v.size() && IsDigit(v[i]) && i - start < max) ++i;
      return v.substr(start, i - start);
    };
    std::string_view a = digits(2);
    if (!a.empty() && i < v.size() && (v[i] == '/' || v[i] == '-' || v[i] == '.')) {
      char sep = v[i++];
      std::string_view b = digits(2);
      if (!b.empty() && i < v.size() && v[i] == sep) {
        ++i;
        std::string_view y = digits(4);
        if (y.size() == 4 && time_cut(v, i)) {
          int ai = Number(a), bi = Number(b), yi = Number(y);
          return ValidYmd(yi, bi, ai) || ValidYmd(yi, ai, bi);
        }
      }
      if (!b.empty()) return false;  // else maybe 05-Mar-1985
    }
  }
  // Textual: three words among separators ' ', ',', '-'; one a month name, one the day, one
  // the year.
  std::string_view parts[3];
  int n = 0;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == ',' || v[i] == '-')) ++i;
    if (i == v.size()) break;
    size_t start = i;
    while (i < v.size() && v[i] != ' ' && v[i] != ',' && v[i] != '-') ++i;
    if (n == 3) return false;
    parts[n++] = v.substr(start, i - start);
  }
  if (n != 3) return false;
  int month = 0, day = 0, year = 0;
  for (std::string_view p : parts) {
    if (AllDigits(p) && p.size() == 4 && !year) {
      year = Number(p);
    } else if (AllDigits(p) && p.size() <= 2 && !day) {
      day = Number(p);
    } else if (p.size() >= 3 && p.size() <= 4 && AllDigits(p.substr(0, p.size() - 2)) && !day &&
               (p.substr(p.size() - 2) == "st" || p.substr(p.size() - 2) == "nd" ||
                p.substr(p.size() - 2) == "rd" || p.substr(p.size() - 2) == "th")) {
      day = Number(p.substr(0, p.size() - 2));  // 5th
    } else if (!month && MonthFromName(p)) {
      month = MonthFromName(p);
    } else {
      return false;
    }
  }
  return month && ValidYmd(year, month, day);
}

}  // namespace

// ---- public ----------------------------------------------------------------------------

const std::vector<std::string>& EntityTypes() {
  static const std::vector<std::string> kTypes = {"EMAIL",      "PHONE_NUMBER", "CREDIT_CARD",
                                                  "IP_ADDRESS", "MAC_ADDRESS",  "USA_SSN",
                                                  "IBAN",       "PERSON_NAME",  "DATE_OF_BIRTH"};
  return kTypes;
}

bool LuhnValid(std::string_view digits) {
  if (digits.size() < 2) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    char c = digits[i];
    if (!IsDigit(c)) return false;
    int d = c - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IbanValid(std::string_view iban) {
  char buf[34];
  int n = 0;
  int group = 0;  // characters since the last space
  bool spaced = false;
  for (size_t i = 0; i < iban.size(); ++i) {
    char c = iban[i];
    if (c == ' ') {
      if (group != 4) return false;  // print format: groups of four
      spaced = true;
      group = 0;
      continue;
    }
    if (!IsAlnum(c) || n == 34) return false;
    buf[n++] = Upper(c);
    ++group;
  }
  if (spaced && (group == 0 || group > 4)) return false;
  if (n < 15 || !IsUpper(buf[0]) || !IsUpper(buf[1]) || !IsDigit(buf[2]) || !IsDigit(buf[3])) {
    return false;
  }
  if (IbanLength(buf[0], buf[1]) != n) return false;
  int check = (buf[2] - '0') * 10 + (buf[3] - '0');
  if (check < 2 || check > 98) return false;
  // mod 97 of BBAN + country + check digits, letters as 10..35.
  int rem = 0;
  for (int k = 0; k < n; ++k) {
    char c = buf[(k + 4) % n];
    rem = IsDigit(c) ? (rem * 10 + (c - '0')) % 97 : (rem * 100 + (c - 'A' + 10)) % 97;
  }
  return rem == 1;
}

bool IsEmail(std::string_view v) {
  if (v.size() < 6 || v.size() > 254) return false;
  size_t at = v.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = v.substr(0, at), domain = v.substr(at + 1);
  bool after_dot = true;  // no leading dot
  for (char c : local) {
    if (c == '.') {
      if (after_dot) return false;
      after_dot = true;
    } else if (IsAtext(c)) {
      after_dot = false;
    } else {
      return false;
    }
  }
  if (after_dot) return false;
  int labels = 0;
  std::string_view last;
  size_t i = 0;
  while (true) {
    size_t end = domain.find('.', i);
    if (end == std::string_view::npos) end = domain.size();
    std::string_view label = domain.substr(i, end - i);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    ++labels;
    last = label;
    if (end == domain.size()) break;
    i = end + 1;
  }
  if (labels < 2) return false;
  if (last.size() >= 4 && Lower(last[0]) == 'x' && Lower(last[1]) == 'n' && last[2] == '-' &&
      last[3] == '-') {
    return true;  // punycode TLD
  }
  return last.size() >= 2 && std::all_of(last.begin(), last.end(), IsAlpha);
}

bool IsPhoneNumber(std::string_view v) {
  v = WithoutPhoneExtension(v);
  if (v.size() < 9 || v.size() > 32) return false;
  // "(+62) 812 3456 7890": a parenthesised country code, read as "+62 812 3456 7890".
  if (v[0] == '(' && v.size() > 1 && v[1] == '+') {
    size_t close = v.find(')');
    if (close == std::string_view::npos || close < 3 || close > 5) return false;
    std::string plain = "+";
    plain += v.substr(2, close - 2);
    plain += v.substr(close + 1);
    return plain.find('(') == std::string::npos && IsPhoneNumber(plain);
  }
  bool plus = v[0] == '+';
  if (plus) {
    v.remove_prefix(1);
    if (v.empty() || !IsDigit(v[0]) || v[0] == '0') return false;
  }
  PhoneShape s;
  if (!ParsePhone(v, s)) return false;
  // Every group after the first has >= 2 digits, except a parenthesised one ("(0)") and the
  // one after a country code ("+33 1 23 45 67 89").
  for (int g = 1; g < s.count; ++g) {
    if (s.groups[g] < 2 && g != s.paren_group && !(plus && g == 1)) return false;
  }
  // '.' only alone, and in three or more groups (12345678.90 is an amount).
  if (s.dot && (s.space || s.dash || s.paren_group >= 0 || s.count < 3)) return false;
  if (plus) return s.slashes == 0 && s.digits >= 8 && s.digits <= 15;
  // A '/' only after a trunk-prefixed area code: 030/12345678.
  if (s.slashes && (v[0] != '0' || s.dot || s.paren_group >= 0)) return false;
  // National (or 00-international) numbers need visible structure.
  if (s.count < 2 || s.count > 6) return false;
  for (int g = 0; g < s.count; ++g) {
    if (s.groups[g] > 8) return false;
  }
  const int* g = s.groups;
  const int n = s.count;
  bool nanp = (n == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4 && s.d[0] >= '2') ||
              (n == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4 && s.d[0] == '1' &&
               s.d[1] >= '2');
  // A parenthesised area code, first or after a trunk 8 (or 1): "(11) 91234-5678",
  // "(495) 123-45-67", "8 (495) 123-45-67".
  bool area_code =
      (s.paren_group == 0 && g[0] >= 2 && g[0] <= 4 && s.digits >= 10 && s.digits <= 11) ||
      (s.paren_group == 1 && g[0] == 1 && (s.d[0] == '8' || s.d[0] == '1') && g[1] >= 3 &&
       g[1] <= 4 && s.digits == 11);
  // 8-9 digits ending in two pairs, without a trunk prefix: "12 34 56 78", "912 34 56 78",
  // "12-345-67-89" (Denmark, Norway, Spain, Poland).
  bool pairs = n >= 4 && s.digits >= 8 && s.digits <= 9 && g[0] >= 2 && g[0] <= 3 &&
               g[n - 1] == 2 && g[n - 2] == 2 && s.paren_group < 0 && !s.dot && !s.slashes;
  if (s.d[0] == '0' && s.d[1] == '0') {  // 00 + country code
    if (s.d[2] == '0' || s.digits < 10 || s.digits > 17) return false;
  } else if (s.d[0] == '0') {  // trunk prefix
    // 10-12 digits, or 9 after an area code of <= 4 digits ("02 123 45 67", "03-123-4567"),
    // but not shaped like an SSN (012-34-5678) or a ZIP+4 code (02134-1234).
    bool ssn_shape = n == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4;
    if (s.digits < 9 || s.digits > 12 || (s.digits == 9 && (g[0] > 4 || ssn_shape))) {
      return false;
    }
  } else if (!nanp && !area_code && !pairs) {
    return false;  // other national numbers without a leading 0 or + are not told apart
  }
  if (s.dot) {
    // Dotted national numbers are North American (555.123.4567) or French (06.12.34.56.78);
    // other dotted numbers are IPv4 addresses, versions or amounts.
    bool fr =
        n == 5 && s.d[0] == '0' && g[0] == 2 && g[1] == 2 && g[2] == 2 && g[3] == 2 && g[4] == 2;
    if (!nanp && !fr) return false;
  }
  if (s.dash && n == 6 && IsMacAddress(v)) return false;  // 00-11-22-33-44-55
  return true;
}

bool IsCreditCard(std::string_view v) {
  if (v.size() < 13 || v.size() > 23) return false;
  char digits[19] = {};
  int n = 0;
  int groups[6] = {};
  int count = 0, cur = 0;
  char sep = '\0';
  for (char c : v) {
    if (IsDigit(c)) {
      if (n == 19) return false;
      digits[n++] = c;
      ++cur;
    } else if (c == ' ' || c == '-') {
      if (cur == 0 || (sep && c != sep) || count == 5) return false;
      sep = c;
      groups[count++] = cur;
      cur = 0;
    } else {
      return false;
    }
  }
  if (cur == 0 || n < 13) return false;
  groups[count++] = cur;
  if (count > 1) {
    bool fours = count >= 4 && groups[count - 1] >= 1 && groups[count - 1] <= 4;
    for (int g = 0; g + 1 < count && fours; ++g) fours = groups[g] == 4;
    bool amex =
        count == 3 && groups[0] == 4 && groups[1] == 6 && (groups[2] == 4 || groups[2] == 5);
    if (!fours && !amex) return false;
  }
  return IinKnown(digits, n) && LuhnValid(std::string_view(digits, n));
}

bool IsIpv4(std::string_view v) {
  if (v.size() < 7 || v.size() > 15) return false;
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int value = 0;
    while (i < v.size() && IsDigit(v[i]) && i - start < 3) value = value * 10 + (v[i++] - '0');
    size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && v[start] == '0')) return false;
    ++parts;
    if (i == v.size()) break;
    if (v[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

bool IsIpv6(std::string_view v) {
  if (v.size() < 2 || v.size() > 64) return false;
  size_t pct = v.find('%');
  if (pct != std::string_view::npos) {
    std::string_view zone = v.substr(pct + 1);
    if (zone.empty() || zone.size() > 16) return false;
    for (char c : zone) {
      if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
    }
    v = v.substr(0, pct);
  }
  if (v.size() > 45) return false;
  // Counts the groups of `part` ("a:b:c", maybe empty), -1 when malformed.
  auto groups = [](std::string_view part, bool v4_tail) {
    if (part.empty()) return 0;
    int count = 0;
    size_t i = 0;
    while (true) {
      size_t end = part.find(':', i);
      if (end == std::string_view::npos) end = part.size();
      std::string_view g = part.substr(i, end - i);
      if (end == part.size() && v4_tail && g.find('.') != std::string_view::npos) {
        return IsIpv4(g) ? count + 2 : -1;
      }
      if (g.empty() || g.size() > 4 || !std::all_of(g.begin(), g.end(), IsHex)) return -1;
      ++count;
      if (end == part.size()) return count;
      i = end + 1;
    }
  };
  size_t dc = v.find("::");
  if (dc == std::string_view::npos) return groups(v, true) == 8;
  if (v.find("::", dc + 1) != std::string_view::npos) return false;  // also ":::"
  int left = groups(v.substr(0, dc), false);
  int right = groups(v.substr(dc + 2), true);
  return left >= 0 && right >= 0 && left + right <= 7;
}

bool IsMacAddress(std::string_view v) {
  if (v.size() != 17) return false;
  char sep = v[2];
  if (sep != ':' && sep != '-') return false;
  for (size_t i = 0; i < 17; ++i) {
    if (i % 3 == 2 ? v[i] != sep : !IsHex(v[i])) return false;
  }
  return true;
}

bool SsnNumberValid(std::string_view v) {
  std::string_view area, group, serial;
  if (v.size() == 9 && AllDigits(v)) {
    area = v.substr(0, 3), group = v.substr(3, 2), serial = v.substr(5, 4);
  } else if (v.size() == 11 && (v[3] == '-' || v[3] == ' ') && v[6] == v[3]) {
    area = v.substr(0, 3), group = v.substr(4, 2), serial = v.substr(7, 4);
    if (!AllDigits(area) || !AllDigits(group) || !AllDigits(serial)) return false;
  } else {
    return false;
  }
  int a = Number(area), g = Number(group), s = Number(serial);
  if (a == 0 || a == 666 || a >= 900 || g == 0 || s == 0) return false;
  // Numbers the SSA voided after they appeared in advertising.
  if ((a == 78 && g == 5 && s == 1120) || (a == 219 && g == 9 && s == 9999)) return false;
  return true;
}

bool IsUsaSsn(std::string_view v) { return v.size() == 11 && SsnNumberValid(v); }

std::vector<std::string> ClassifyValue(std::string_view value,
                                       const std::vector<CustomEntity>& custom) {
  std::string_view v = TrimView(value);
  std::vector<std::string> out;
  uint32_t mask = ClassifyBuiltin(v);
  for (int e = 0; e < kValueEntityCount; ++e) {
    if (mask & (1u << e)) out.emplace_back(kValueEntityNames[e]);
  }
  for (const CustomEntity& entity : custom) {
    if (MatchesCustom(v, entity)) out.push_back(entity.name);
  }
  return out;
}

std::vector<EntityMatch> DetectEntities(std::string_view column, std::string_view type,
                                        const std::vector<std::string>& sample,
                                        const std::vector<CustomEntity>& custom) {
  for (const CustomEntity& entity : custom) CompiledRegex(entity);  // fail early on a bad one
  std::vector<std::string> words = NameWords(column);
  bool ssn_name = HasContext(words, kSsn);
  bool integer_type = IsIntegerType(type);
  double person_strength = PersonNameStrength(words);
  bool birth_name = IsBirthDateName(words);
  bool date_type = IsDateType(type);

  size_t non_empty = 0;
  size_t counts[kValueEntityCount] = {};
  std::vector<size_t> custom_counts(custom.size());
  size_t person = 0, dates = 0;
  for (const std::string& raw : sample) {
    std::string_view v = TrimView(raw);
    if (v.empty()) continue;
    ++non_empty;
    uint32_t mask = ClassifyBuiltin(v);
    if (ssn_name && !(mask & (1u << kSsn))) {
      if (v.size() == 9 && SsnNumberValid(v)) {
        mask |= 1u << kSsn;
      } else if (integer_type && v.size() >= 7 && v.size() < 9 && AllDigits(v)) {
        // An integer column lost the leading zeros (078-05-1120 -> 78051120).
        std::string padded(9 - v.size(), '0');
        padded += v;
        if (SsnNumberValid(padded)) mask |= 1u << kSsn;
      }
    }
    for (int e = 0; e < kValueEntityCount; ++e) counts[e] += (mask >> e) & 1u;
    for (size_t c = 0; c < custom.size(); ++c) custom_counts[c] += MatchesCustom(v, custom[c]);
    if (person_strength > 0) person += IsPersonNameShaped(v);
    if (birth_name && !date_type) dates += IsDateLike(v);
  }

  std::vector<EntityMatch> out;
  auto judge = [&](const std::string& entity, size_t count, bool context) {
    if (non_empty == 0 || count == 0) return;
    double fraction = static_cast<double>(count) / static_cast<double>(non_empty);
    if (fraction < (context ? 0.5 : 0.8)) return;
    out.push_back({entity, context ? fraction : 0.9 * fraction});
  };
  for (int e = 0; e < kValueEntityCount; ++e) {
    judge(kValueEntityNames[e], counts[e], HasContext(words, e));
  }
  for (size_t c = 0; c < custom.size(); ++c) {
    bool context = false;
    for (const std::string& word : custom[c].context) context |= HasPhrase(words, word);
    judge(custom[c].name, custom_counts[c], context);
  }
  if (person_strength > 0 && non_empty > 0) {
    double fraction = static_cast<double>(person) / static_cast<double>(non_empty);
    if (fraction >= 0.8) out.push_back({"PERSON_NAME", person_strength * fraction});
  }
  if (birth_name) {
    if (date_type) {
      out.push_back({"DATE_OF_BIRTH", 1.0});
    } else if (non_empty > 0) {
      double fraction = static_cast<double>(dates) / static_cast<double>(non_empty);
      if (fraction >= 0.8) out.push_back({"DATE_OF_BIRTH", fraction});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const EntityMatch& a, const EntityMatch& b) {
    return a.confidence != b.confidence ? a.confidence > b.confidence : a.entity < b.entity;
  });
  return out;
}

}  // namespace sluice::quality
