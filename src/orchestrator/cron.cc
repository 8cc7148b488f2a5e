#include "orchestrator/cron.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <string_view>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::orchestrator {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
// How far Next looks ahead: 10 years, more than the 8 years between the leap days 2096 and 2104.
constexpr int64_t kHorizonSeconds = int64_t{3653} * kSecondsPerDay;
// The instants Next accepts, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in seconds. Outside
// them the civil-calendar arithmetic would leave the range the date library supports.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

constexpr const char* kFieldList = "minute hour day-of-month month day-of-week";
constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Field {
  const char* name;
  int low;
  int high;
  const char* const* names;  // value names, the first one meaning `names_base`; or nullptr
  int names_base;
  size_t name_count;
  const char* names_hint;  // for the error message: "a month name (jan..dec)"
};

constexpr Field kMinute{"minute", 0, 59, nullptr, 0, 0, nullptr};
constexpr Field kHour{"hour", 0, 23, nullptr, 0, 0, nullptr};
constexpr Field kDayOfMonth{"day-of-month", 1, 31, nullptr, 0, 0, nullptr};
constexpr Field kMonth{"month", 1, 12, kMonthNames, 1, 12, "a month name (jan..dec)"};
constexpr Field kDayOfWeek{"day-of-week", 0, 7, kDayNames, 0, 7, "a day name (sun..sat)"};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses the fields of one expression, failing with messages that quote it.
class FieldParser {
 public:
  explicit FieldParser(const std::string& expression) : expression_(expression) {}

  [[noreturn]] void Bad(const Field& field, std::string_view text, std::string_view problem) const {
    FailWithCode(ErrorKind::kConfig, "config.bad_cron", "cron '{}': {} '{}' {}", expression_,
                 field.name, text, problem);
  }

  // The set of values `text` selects, as bits (bit v = value v).
  uint64_t Parse(const Field& field, const std::string& text) const {
    uint64_t bits = 0;
    for (const std::string& item : Split(text, ',')) {
      if (item.empty()) Bad(field, text, "has an empty item in its list");
      bits |= ParseItem(field, item);
    }
    return bits;
  }

 private:
  uint64_t ParseItem(const Field& field, const std::string& item) const {
    std::string_view range = item;
    int step = 1;
    bool has_step = false;
    if (size_t slash = range.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = range.substr(slash + 1);
      range = range.substr(0, slash);
      step = ParseStep(field, item, step_text);
      has_step = true;
    }
    int low = field.low, high = field.high;
    if (range == "*") {
      // the whole range
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      std::string_view low_text = range.substr(0, dash), high_text = range.substr(dash + 1);
      if (low_text.empty() || high_text.empty()) {
        Bad(field, item, "is not a valid range (expected start-end, e.g. 1-5)");
      }
      low = ParseValue(field, low_text);
      high = ParseValue(field, high_text);
      // As in cronie, a day-of-week range may end on Sunday written as 0: fri-sun is 5-7.
      if (&field == &kDayOfWeek && high == 0 && low > 0) high = 7;
      if (low > high) Bad(field, item, "is a backwards range (its start is after its end)");
    } else {
      if (has_step) {
        Bad(field, item,
            fmt::format("has a step but no range (write {}-{}/{} or */{})", range, field.high, step,
                        step));
      }
      low = high = ParseValue(field, range);
    }
    uint64_t bits = 0;
    for (int v = low; v <= high; v += step) bits |= uint64_t{1} << v;
    return bits;
  }

  int ParseStep(const Field& field, const std::string& item, std::string_view text) const {
    if (!IsDigits(text)) Bad(field, item, "has a step that is not a number");
    int step = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), step);
    if (ec != std::errc() || step > field.high) {
      Bad(field, item, fmt::format("has a step larger than {}", field.high));
    }
    if (step < 1) Bad(field, item, "has a step of 0 (it must be at least 1)");
    return step;
  }

  int ParseValue(const Field& field, std::string_view text) const {
    if (IsDigits(text)) {
      int value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || value < field.low || value > field.high) {
        Bad(field, text, fmt::format("is out of range {}-{}", field.low, field.high));
      }
      return value;
    }
    if (field.names != nullptr) {
      std::string lower = ToLower(text);
      for (size_t i = 0; i < field.name_count; ++i) {
        if (lower == field.names[i]) return field.names_base + static_cast<int>(i);
      }
      Bad(field, text, fmt::format("is not a number or {}", field.names_hint));
    }
    Bad(field, text, "is not a number");
  }

  const std::string& expression_;
};

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

// The five fields a macro stands for, or "" if `word` is not one.
std::string ExpandMacro(const std::string& word) {
  std::string lower = ToLower(word);
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@hourly") return "0 * * * *";
  return "";
}

const date::time_zone* LocateZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
  }
  std::string hint;
  try {
    std::vector<std::string> names;  // (with the OS database, links are listed as zones too)
    for (const auto& zone : date::get_tzdb().zones) names.push_back(std::string(zone.name()));
    hint = Nearest(name, names);
  } catch (const std::exception&) {
    // no hint when the database itself cannot be read
  }
  if (!hint.empty()) {
    FailWithCode(ErrorKind::kConfig, "config.bad_timezone",
                 "unknown time zone '{}' (did you mean '{}'?)", name, hint);
  }
  FailWithCode(ErrorKind::kConfig, "config.bad_timezone",
               "unknown time zone '{}' (expected an IANA name such as 'Europe/Paris')", name);
}

}  // namespace

Cron Cron::Parse(const std::string& expression, const std::string& timezone) {
  Cron cron;
  cron.expression_ = expression;
  cron.timezone_ = timezone;

  std::vector<std::string> words = Words(expression);
  if (!words.empty() && StartsWith(words[0], "@")) {
    std::string fields = ExpandMacro(words[0]);
    if (fields.empty()) {
      FailWithCode(ErrorKind::kConfig, "config.bad_cron",
                   "cron '{}': unknown macro '{}' (expected @yearly, @annually, @monthly, @weekly, "
                   "@daily, @midnight or @hourly)",
                   expression, words[0]);
    }
    if (words.size() > 1) {
      FailWithCode(ErrorKind::kConfig, "config.bad_cron",
                   "cron '{}': the macro '{}' must stand alone, found {} fields", expression,
                   words[0], words.size());
    }
    words = Words(fields);
  }
  if (words.size() != 5) {
    FailWithCode(ErrorKind::kConfig, "config.bad_cron",
                 "cron '{}': expected 5 fields ({}), found {}", expression, kFieldList,
                 words.size());
  }

  FieldParser parser(expression);
  cron.minutes_ = parser.Parse(kMinute, words[0]);
  cron.hours_ = static_cast<uint32_t>(parser.Parse(kHour, words[1]));
  cron.days_ = static_cast<uint32_t>(parser.Parse(kDayOfMonth, words[2]));
  cron.months_ = static_cast<uint32_t>(parser.Parse(kMonth, words[3]));
  uint64_t weekdays = parser.Parse(kDayOfWeek, words[4]);
  if (weekdays & (uint64_t{1} << 7)) weekdays |= 1;  // 7 is Sunday too
  cron.weekdays_ = static_cast<uint32_t>(weekdays & 0x7f);
  // As in Vixie cron, a field "is *" when it starts with '*' (so */2 counts).
  cron.hour_star_ = words[1][0] == '*';
  cron.day_star_ = words[2][0] == '*';
  cron.weekday_star_ = words[4][0] == '*';

  cron.zone_ = LocateZone(timezone);
  return cron;
}

bool Cron::DayMatches(unsigned day_of_month, unsigned day_of_week) const {
  bool day = (days_ >> day_of_month) & 1;
  bool weekday = (weekdays_ >> day_of_week) & 1;
  if (day_star_ || weekday_star_) return day && weekday;
  return day || weekday;
}

std::optional<int64_t> Cron::NextLocal(int64_t local_s, int64_t last_day) const {
  int64_t t = FloorDiv(local_s + 59, 60) * 60;  // round up to a whole minute
  int64_t day = FloorDiv(t, kSecondsPerDay);
  int64_t second_of_day = t - day * kSecondsPerDay;
  int hour = static_cast<int>(second_of_day / 3600);
  int minute = static_cast<int>(second_of_day % 3600 / 60);
  while (day <= last_day) {
    // Civil-calendar arithmetic is the same for local and UTC days.
    date::sys_days days{date::days{day}};
    date::year_month_day ymd{days};
    if (!((months_ >> static_cast<unsigned>(ymd.month())) & 1)) {
      date::year_month next = ymd.year() / ymd.month() + date::months{1};
      day = date::sys_days{next / 1}.time_since_epoch().count();
      hour = minute = 0;
      continue;
    }
    if (DayMatches(static_cast<unsigned>(ymd.day()), date::weekday{days}.c_encoding())) {
      for (; hour < 24; ++hour, minute = 0) {
        if (!((hours_ >> hour) & 1)) continue;
        uint64_t later = minutes_ >> minute << minute;  // the selected minutes >= `minute`
        if (later != 0) {
          return day * kSecondsPerDay + hour * 3600 + std::countr_zero(later) * 60;
        }
      }
    }
    ++day;
    hour = minute = 0;
  }
  return std::nullopt;
}

int64_t Cron::Resolve(int64_t local_s) const {
  date::local_seconds local{std::chrono::seconds{local_s}};
  date::local_info info = zone_->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      // In a spring-forward gap: the instant the gap ends.
      return info.second.begin.time_since_epoch().count();
    case date::local_info::ambiguous:  // in a fall-back overlap: the first occurrence
    case date::local_info::unique:
    default:
      return local_s - info.first.offset.count();
  }
}

int64_t Cron::Next(int64_t after_ms) const {
  int64_t after = FloorDiv(after_ms, 1000);  // fire times are whole seconds: > after_ms <=> > after
  if (after >= kMaxSeconds) return -1;
  after = std::max(after, kMinSeconds);
  const int64_t end = std::min(after + kHorizonSeconds, kMaxSeconds);

  if (hour_star_) {
    // Wildcard hour: the instants whose local time matches. Walk the zone's periods of constant
    // UTC offset; inside one, local time is UTC plus the offset, so the first matching local time
    // at or after the period's start (or `after`) is the answer if it is still inside the period.
    // Times in a spring-forward gap belong to no period; times repeated by a fall back belong to
    // two, and fire in both.
    int64_t t = after + 1;
    while (t <= end) {
      date::sys_info info = zone_->get_info(date::sys_seconds{std::chrono::seconds{t}});
      int64_t offset = info.offset.count();
      std::optional<int64_t> local = NextLocal(t + offset, FloorDiv(end + offset, kSecondsPerDay));
      if (!local) return -1;
      int64_t fire = *local - offset;
      if (fire < info.end.time_since_epoch().count()) return fire * 1000;
      t = info.end.time_since_epoch().count();
    }
    return -1;
  }

  // Fixed hour: each selected local time fires once, at Resolve(local). Resolve never decreases
  // as local time increases, and every local time up to local(after) resolves to <= after, so
  // the first selected local time from local(after) on that resolves to > after is the answer.
  // Only inside a fall-back overlap (after in its second pass) are a few times skipped.
  date::sys_info info = zone_->get_info(date::sys_seconds{std::chrono::seconds{after}});
  int64_t local = after + info.offset.count();
  const int64_t last_day = FloorDiv(local + kHorizonSeconds, kSecondsPerDay);
  while (true) {
    std::optional<int64_t> match = NextLocal(local, last_day);
    if (!match) return -1;
    int64_t fire = Resolve(*match);
    if (fire > after) return fire * 1000;
    local = *match + 60;
  }
}

std::vector<int64_t> Cron::Between(int64_t from_ms, int64_t to_ms, size_t limit) const {
  std::vector<int64_t> fires;
  int64_t t = from_ms;
  while (fires.size() < limit && t < to_ms) {
    int64_t next = Next(t);
    if (next < 0 || next > to_ms) break;
    fires.push_back(next);
    t = next;
  }
  return fires;
}

}  // namespace sluice::orchestrator
