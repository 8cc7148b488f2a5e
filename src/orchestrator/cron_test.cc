#include "orchestrator/cron.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"

namespace sluice::orchestrator {
namespace {

// Milliseconds since the epoch for an RFC 3339 UTC time, "2026-03-29T01:00:00Z".
int64_t Ms(const std::string& text) {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char zulu = 0;
  int parsed = std::sscanf(text.c_str(), "%d-%u-%uT%u:%u:%u%c", &year, &month, &day, &hour, &minute,
                           &second, &zulu);
  date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  EXPECT_TRUE(parsed == 7 && zulu == 'Z' && ymd.ok() && hour < 24 && minute < 60 && second < 60)
      << "bad test time " << text;
  date::sys_seconds time = date::sys_days{ymd} + std::chrono::hours{hour} +
                           std::chrono::minutes{minute} + std::chrono::seconds{second};
  return int64_t{time.time_since_epoch().count()} * 1000;
}

// The reverse of Ms, for readable failures; "none" for -1.
std::string Utc(int64_t ms) {
  if (ms == -1) return "none";
  return date::format("%FT%TZ", date::sys_seconds{std::chrono::seconds{ms / 1000}});
}

std::string NextAfter(const Cron& cron, const std::string& after) {
  return Utc(cron.Next(Ms(after)));
}

std::vector<std::string> Fires(const Cron& cron, const std::string& from, const std::string& to,
                               size_t limit = 1000) {
  std::vector<std::string> out;
  for (int64_t ms : cron.Between(Ms(from), Ms(to), limit)) out.push_back(Utc(ms));
  return out;
}

std::vector<std::string> FiresUtc(const std::string& expression, const std::string& from,
                                  const std::string& to, size_t limit = 1000) {
  return Fires(Cron::Parse(expression), from, to, limit);
}

// The message of the config error Parse throws, or "" when it does not throw one.
std::string ParseError(const std::string& expression, const std::string& timezone = "UTC") {
  try {
    Cron::Parse(expression, timezone);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "'" << expression << "' in '" << timezone << "' parsed without an error";
  return "";
}

using Times = std::vector<std::string>;

// --- Syntax ---------------------------------------------------------------------------------

TEST(Cron, ParsesNumbersAndStar) {
  EXPECT_EQ(FiresUtc("5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"),
            (Times{"2026-01-01T00:05:00Z", "2026-01-01T01:05:00Z", "2026-01-01T02:05:00Z"}));
  EXPECT_EQ(FiresUtc("* * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:03:00Z"),
            (Times{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 1 1 *", "2026-06-15T00:00:00Z", "2028-06-15T00:00:00Z"),
            (Times{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}));
}

TEST(Cron, ParsesListsAndRanges) {
  EXPECT_EQ(FiresUtc("0,10-12,59 * * * *", "2025-12-31T23:59:00Z", "2026-01-01T00:59:00Z"),
            (Times{"2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:11:00Z",
                   "2026-01-01T00:12:00Z", "2026-01-01T00:59:00Z"}));
  EXPECT_EQ(FiresUtc("0 22-23,1 * * *", "2026-01-01T00:00:00Z", "2026-01-02T02:00:00Z"),
            (Times{"2026-01-01T01:00:00Z", "2026-01-01T22:00:00Z", "2026-01-01T23:00:00Z",
                   "2026-01-02T01:00:00Z"}));
  // Tabs and runs of blanks separate fields.
  EXPECT_EQ(FiresUtc("  30\t9  * *  * ", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            (Times{"2026-01-01T09:30:00Z"}));
}

TEST(Cron, ParsesSteps) {
  EXPECT_EQ(FiresUtc("*/15 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
            (Times{"2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z",
                   "2026-01-01T01:00:00Z"}));
  EXPECT_EQ(FiresUtc("10-40/10 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
            (Times{"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z",
                   "2026-01-01T00:40:00Z"}));
  EXPECT_EQ(FiresUtc("0 */6 * * *", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            (Times{"2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z",
                   "2026-01-02T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 */10 * *", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
            (Times{"2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z",
                   "2026-02-01T00:00:00Z"}));
  // A step may skip past the end of its range, and a list may mix steps and numbers.
  EXPECT_EQ(FiresUtc("5-9/4,30 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"),
            (Times{"2026-01-01T00:05:00Z", "2026-01-01T00:09:00Z", "2026-01-01T00:30:00Z"}));
}

TEST(Cron, ParsesMonthAndDayNamesCaseInsensitively) {
  // 2026-01-01 is a Thursday; July 1st is a Wednesday.
  Cron named = Cron::Parse("0 12 * JAN,jul Mon-FRI");
  Cron numbered = Cron::Parse("0 12 * 1,7 1-5");
  Times expected{"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-05T12:00:00Z"};
  EXPECT_EQ(Fires(named, "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z", 3), expected);
  EXPECT_EQ(Fires(numbered, "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z", 3), expected);
  EXPECT_EQ(NextAfter(named, "2026-01-31T00:00:00Z"), "2026-07-01T12:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("0 0 1 mar-may *"), "2026-06-01T00:00:00Z"),
            "2027-03-01T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("0 0 1 Dec *"), "2026-06-01T00:00:00Z"), "2026-12-01T00:00:00Z");
}

TEST(Cron, SundayIsZeroAndSeven) {
  // 2026-01-04 is a Sunday.
  for (const char* expression : {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN"}) {
    EXPECT_EQ(FiresUtc(expression, "2026-01-01T00:00:00Z", "2026-01-12T00:00:00Z"),
              (Times{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}))
        << expression;
  }
  // Ranges through Sunday: 5-7, and fri-sun (5-0 read as 5-7).
  Times weekend{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z",
                "2026-01-09T00:00:00Z"};
  EXPECT_EQ(FiresUtc("0 0 * * 5-7", "2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z"), weekend);
  EXPECT_EQ(FiresUtc("0 0 * * fri-sun", "2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z"), weekend);
}

TEST(Cron, ExpandsMacros) {
  // 2026-03-01 is a Sunday.
  const std::string from = "2026-03-01T00:00:00Z";
  EXPECT_EQ(NextAfter(Cron::Parse("@yearly"), from), "2027-01-01T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@annually"), from), "2027-01-01T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@monthly"), from), "2026-04-01T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@weekly"), from), "2026-03-08T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@daily"), from), "2026-03-02T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@midnight"), from), "2026-03-02T00:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("@hourly"), from), "2026-03-01T01:00:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse(" @DAILY "), from), "2026-03-02T00:00:00Z");
  // @daily is a fixed-hour job, @hourly a wildcard-hour one (see the DST tests).
  EXPECT_EQ(
      Fires(Cron::Parse("@daily", "Europe/Paris"), "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"),
      (Times{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z"}));
}

TEST(Cron, KeepsExpressionAndTimeZone) {
  Cron utc = Cron::Parse("*/5 * * * *");
  EXPECT_EQ(utc.expression(), "*/5 * * * *");
  EXPECT_EQ(utc.timezone(), "UTC");
  Cron paris = Cron::Parse("@daily", "Europe/Paris");
  EXPECT_EQ(paris.expression(), "@daily");
  EXPECT_EQ(paris.timezone(), "Europe/Paris");
  Cron copy = paris;
  EXPECT_EQ(copy.Next(Ms("2026-01-01T00:00:00Z")), Ms("2026-01-01T23:00:00Z"));
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // April 2026: the 1st is a Wednesday, Fridays are the 3rd, 10th, 17th and 24th, the 13th is a
  // Monday; May 1st is a Friday.
  EXPECT_EQ(FiresUtc("0 0 13 * fri", "2026-04-01T00:00:00Z", "2026-05-02T00:00:00Z"),
            (Times{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z",
                   "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"}));
  // When either field is *, only the other one restricts.
  EXPECT_EQ(FiresUtc("0 0 13 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"),
            (Times{"2026-04-13T00:00:00Z", "2026-05-13T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 * * fri", "2026-04-01T00:00:00Z", "2026-04-12T00:00:00Z"),
            (Times{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z"}));
  // As in Vixie cron, a field starting with * counts as *: odd days AND Mondays (6, 13, 20, 27).
  EXPECT_EQ(FiresUtc("0 0 */2 * mon", "2026-04-01T00:00:00Z", "2026-04-30T00:00:00Z"),
            (Times{"2026-04-13T00:00:00Z", "2026-04-27T00:00:00Z"}));
}

// --- Errors ---------------------------------------------------------------------------------

TEST(Cron, RejectsWrongFieldCountsAndMacros) {
  EXPECT_EQ(ParseError("* * *"),
            "cron '* * *': expected 5 fields (minute hour day-of-month month day-of-week), "
            "found 3");
  EXPECT_EQ(ParseError(""),
            "cron '': expected 5 fields (minute hour day-of-month month day-of-week), found 0");
  EXPECT_EQ(ParseError("0 0 * * * 2026"),
            "cron '0 0 * * * 2026': expected 5 fields (minute hour day-of-month month "
            "day-of-week), found 6");
  EXPECT_EQ(ParseError("@every"),
            "cron '@every': unknown macro '@every' (expected @yearly, @annually, @monthly, "
            "@weekly, @daily, @midnight or @hourly)");
  EXPECT_EQ(ParseError("@reboot"),
            "cron '@reboot': unknown macro '@reboot' (expected @yearly, @annually, @monthly, "
            "@weekly, @daily, @midnight or @hourly)");
  EXPECT_EQ(ParseError("@daily 5"),
            "cron '@daily 5': the macro '@daily' must stand alone, found 2 fields");
}

TEST(Cron, RejectsOutOfRangeValues) {
  EXPECT_EQ(ParseError("0 25 * * *"), "cron '0 25 * * *': hour '25' is out of range 0-23");
  EXPECT_EQ(ParseError("60 * * * *"), "cron '60 * * * *': minute '60' is out of range 0-59");
  EXPECT_EQ(ParseError("0 0 0 * *"), "cron '0 0 0 * *': day-of-month '0' is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 32 * *"), "cron '0 0 32 * *': day-of-month '32' is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "cron '0 0 * 13 *': month '13' is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * 0 *"), "cron '0 0 * 0 *': month '0' is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * * 8"), "cron '0 0 * * 8': day-of-week '8' is out of range 0-7");
  EXPECT_EQ(ParseError("1-99 * * * *"), "cron '1-99 * * * *': minute '99' is out of range 0-59");
  EXPECT_EQ(ParseError("99999999999 * * * *"),
            "cron '99999999999 * * * *': minute '99999999999' is out of range 0-59");
}

TEST(Cron, RejectsBadNumbersAndNames) {
  EXPECT_EQ(ParseError("x * * * *"), "cron 'x * * * *': minute 'x' is not a number");
  EXPECT_EQ(ParseError("0 mon * * *"), "cron '0 mon * * *': hour 'mon' is not a number");
  EXPECT_EQ(ParseError("0 0 ? * *"), "cron '0 0 ? * *': day-of-month '?' is not a number");
  EXPECT_EQ(ParseError("0 0 * foo *"),
            "cron '0 0 * foo *': month 'foo' is not a number or a month name (jan..dec)");
  EXPECT_EQ(ParseError("0 0 * mon *"),
            "cron '0 0 * mon *': month 'mon' is not a number or a month name (jan..dec)");
  EXPECT_EQ(ParseError("0 0 * * monday"),
            "cron '0 0 * * monday': day-of-week 'monday' is not a number or a day name "
            "(sun..sat)");
  EXPECT_EQ(ParseError("0 0 * * jan"),
            "cron '0 0 * * jan': day-of-week 'jan' is not a number or a day name (sun..sat)");
}

TEST(Cron, RejectsBadListsRangesAndSteps) {
  EXPECT_EQ(ParseError("1,,2 * * * *"),
            "cron '1,,2 * * * *': minute '1,,2' has an empty item in its list");
  EXPECT_EQ(ParseError("0 0 * * 1,"),
            "cron '0 0 * * 1,': day-of-week '1,' has an empty item in its list");
  EXPECT_EQ(ParseError("30-10 * * * *"),
            "cron '30-10 * * * *': minute '30-10' is a backwards range (its start is after its "
            "end)");
  EXPECT_EQ(ParseError("0 0 * dec-jan *"),
            "cron '0 0 * dec-jan *': month 'dec-jan' is a backwards range (its start is after "
            "its end)");
  EXPECT_EQ(ParseError("-5 * * * *"),
            "cron '-5 * * * *': minute '-5' is not a valid range (expected start-end, e.g. 1-5)");
  EXPECT_EQ(ParseError("0 0 * * 1-"),
            "cron '0 0 * * 1-': day-of-week '1-' is not a valid range (expected start-end, e.g. "
            "1-5)");
  EXPECT_EQ(ParseError("*/0 * * * *"),
            "cron '*/0 * * * *': minute '*/0' has a step of 0 (it must be at least 1)");
  EXPECT_EQ(ParseError("*/x * * * *"),
            "cron '*/x * * * *': minute '*/x' has a step that is not a number");
  EXPECT_EQ(ParseError("0 */ * * *"),
            "cron '0 */ * * *': hour '*/' has a step that is not a number");
  EXPECT_EQ(ParseError("*/-1 * * * *"),
            "cron '*/-1 * * * *': minute '*/-1' has a step that is not a number");
  EXPECT_EQ(ParseError("*/60 * * * *"),
            "cron '*/60 * * * *': minute '*/60' has a step larger than 59");
  EXPECT_EQ(ParseError("5/15 * * * *"),
            "cron '5/15 * * * *': minute '5/15' has a step but no range (write 5-59/15 or */15)");
}

TEST(Cron, RejectsUnknownTimeZones) {
  EXPECT_EQ(ParseError("0 0 * * *", "Europe/Pari"),
            "unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)");
  EXPECT_EQ(ParseError("0 0 * * *", "Xq/Zzzzzzzz"),
            "unknown time zone 'Xq/Zzzzzzzz' (expected an IANA name such as 'Europe/Paris')");
  EXPECT_EQ(ParseError("0 0 * * *", "").rfind("unknown time zone ''", 0), 0u);
  // The expression is checked first.
  EXPECT_EQ(ParseError("0 25 * * *", "Europe/Pari"),
            "cron '0 25 * * *': hour '25' is out of range 0-23");
}

// --- Next and Between in UTC ------------------------------------------------------------------

TEST(Cron, NextIsStrictlyAfter) {
  Cron cron = Cron::Parse("30 9 * * *");
  EXPECT_EQ(NextAfter(cron, "2026-05-10T09:29:59Z"), "2026-05-10T09:30:00Z");
  EXPECT_EQ(NextAfter(cron, "2026-05-10T09:30:00Z"), "2026-05-11T09:30:00Z");
  EXPECT_EQ(cron.Next(Ms("2026-05-10T09:30:00Z") - 1), Ms("2026-05-10T09:30:00Z"));
  EXPECT_EQ(cron.Next(Ms("2026-05-10T09:30:00Z") + 1), Ms("2026-05-11T09:30:00Z"));
  EXPECT_EQ(NextAfter(Cron::Parse("59 23 31 12 *"), "2026-12-31T23:59:00Z"),
            "2027-12-31T23:59:00Z");
  // Before the epoch, and onto it.
  EXPECT_EQ(Cron::Parse("0 0 * * *").Next(Ms("1969-12-31T12:00:00Z")), 0);
  EXPECT_EQ(Cron::Parse("0 0 * * *").Next(-1), 0);
  EXPECT_EQ(NextAfter(Cron::Parse("0 12 * * *"), "1969-07-20T20:17:00Z"), "1969-07-21T12:00:00Z");
}

TEST(Cron, MonthEndsAndShortMonths) {
  EXPECT_EQ(FiresUtc("0 0 31 * *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:00Z"),
            (Times{"2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
                   "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z",
                   "2026-12-31T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 30 * *", "2026-01-31T00:00:00Z", "2026-04-01T00:00:00Z"),
            (Times{"2026-03-30T00:00:00Z"}));
}

TEST(Cron, FindsTheNextLeapDay) {
  Cron cron = Cron::Parse("0 0 29 2 *");
  EXPECT_EQ(NextAfter(cron, "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(NextAfter(cron, "2028-02-29T00:00:00Z"), "2032-02-29T00:00:00Z");
  // 2100 is not a leap year: eight years to wait.
  EXPECT_EQ(NextAfter(cron, "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");
  EXPECT_EQ(Fires(cron, "2026-01-01T00:00:00Z", "2040-12-31T00:00:00Z"),
            (Times{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z",
                   "2040-02-29T00:00:00Z"}));
  // Feb 29 or any Monday in February (the OR rule): 2027-02-01 is a Monday.
  EXPECT_EQ(NextAfter(Cron::Parse("0 0 29 feb mon"), "2026-03-01T00:00:00Z"),
            "2027-02-01T00:00:00Z");
}

TEST(Cron, NeverFiringExpressionsReturnMinusOne) {
  for (const char* expression : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 feb *"}) {
    Cron cron = Cron::Parse(expression, "Europe/Paris");
    EXPECT_EQ(cron.Next(Ms("2026-01-01T00:00:00Z")), -1) << expression;
    EXPECT_TRUE(cron.Between(Ms("2026-01-01T00:00:00Z"), Ms("2036-01-01T00:00:00Z"), 10).empty());
  }
  // Beyond the year 9999 there is nothing to find.
  EXPECT_EQ(Cron::Parse("* * * * *").Next(Ms("9999-12-31T23:59:00Z")), -1);
}

TEST(Cron, BetweenIsHalfOpenAndLimited) {
  Cron hourly = Cron::Parse("0 * * * *");
  // (from, to]: the start is excluded, the end included.
  EXPECT_EQ(Fires(hourly, "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"),
            (Times{"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"}));
  EXPECT_EQ(Fires(hourly, "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", 2),
            (Times{"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"}));
  EXPECT_TRUE(Fires(hourly, "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", 0).empty());
  EXPECT_TRUE(Fires(hourly, "2026-01-01T03:00:00Z", "2026-01-01T00:00:00Z").empty());
  EXPECT_TRUE(Fires(hourly, "2026-01-01T00:00:00Z", "2026-01-01T00:59:59Z").empty());

  // A year of every minute, limited to 10: only the first ten are computed.
  Cron every_minute = Cron::Parse("* * * * *", "America/New_York");
  std::vector<int64_t> first =
      every_minute.Between(Ms("2026-01-01T00:00:00Z"), Ms("2027-01-01T00:00:00Z"), 10);
  ASSERT_EQ(first.size(), 10u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i], Ms("2026-01-01T00:00:00Z") + int64_t(i + 1) * 60000);
  }
  // And the whole year, for good measure: 365 days of 1440 minutes.
  EXPECT_EQ(
      every_minute.Between(Ms("2026-01-01T00:00:00Z"), Ms("2027-01-01T00:00:00Z"), 1000000).size(),
      365u * 1440u);
}

TEST(Cron, NonWholeHourOffsets) {
  // India is UTC+5:30 and Nepal UTC+5:45, without daylight saving.
  EXPECT_EQ(NextAfter(Cron::Parse("0 9 * * *", "Asia/Kolkata"), "2026-03-01T00:00:00Z"),
            "2026-03-01T03:30:00Z");
  EXPECT_EQ(NextAfter(Cron::Parse("0 9 * * *", "Asia/Kathmandu"), "2026-03-01T00:00:00Z"),
            "2026-03-01T03:15:00Z");
  EXPECT_EQ(Fires(Cron::Parse("0 * * * *", "Asia/Kolkata"), "2026-03-01T00:00:00Z",
                  "2026-03-01T02:00:00Z"),
            (Times{"2026-03-01T00:30:00Z", "2026-03-01T01:30:00Z"}));
}

// --- Daylight saving: Europe/Paris ------------------------------------------------------------
// CET is UTC+1, CEST UTC+2. 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST (02:xx does not exist).
// 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET (02:xx happens twice, at 00:xxZ and 01:xxZ).

TEST(Cron, ParisSpringForwardFixedHourFiresWhenTheGapEnds) {
  Cron cron = Cron::Parse("30 2 * * *", "Europe/Paris");
  EXPECT_EQ(Fires(cron, "2026-03-27T12:00:00Z", "2026-03-31T00:00:00Z"),
            (Times{"2026-03-28T01:30:00Z",     // 02:30 CET
                   "2026-03-29T01:00:00Z",     // 02:30 does not exist: 03:00 CEST
                   "2026-03-30T00:30:00Z"}));  // 02:30 CEST
  EXPECT_EQ(NextAfter(cron, "2026-03-29T00:59:59Z"), "2026-03-29T01:00:00Z");
  EXPECT_EQ(NextAfter(cron, "2026-03-29T01:00:00Z"), "2026-03-30T00:30:00Z");
  // However many of its times fall in the gap, a fixed-hour job fires there once.
  EXPECT_EQ(Fires(Cron::Parse("*/15 2 * * *", "Europe/Paris"), "2026-03-28T12:00:00Z",
                  "2026-03-30T12:00:00Z"),
            (Times{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:15:00Z",
                   "2026-03-30T00:30:00Z", "2026-03-30T00:45:00Z"}));
  // ... also when the gap end is itself one of its times (03:00 CEST).
  EXPECT_EQ(Fires(Cron::Parse("0 2,3 29 3 *", "Europe/Paris"), "2026-03-28T12:00:00Z",
                  "2026-03-30T12:00:00Z"),
            (Times{"2026-03-29T01:00:00Z"}));
}

TEST(Cron, ParisFallBackFixedHourFiresOnceAtTheFirstOccurrence) {
  Cron cron = Cron::Parse("30 2 * * *", "Europe/Paris");
  EXPECT_EQ(Fires(cron, "2026-10-23T12:00:00Z", "2026-10-27T00:00:00Z"),
            (Times{"2026-10-24T00:30:00Z",     // 02:30 CEST
                   "2026-10-25T00:30:00Z",     // the first 02:30 (CEST); not 01:30Z
                   "2026-10-26T01:30:00Z"}));  // 02:30 CET
  EXPECT_EQ(Fires(Cron::Parse("*/15 2 * * *", "Europe/Paris"), "2026-10-24T12:00:00Z",
                  "2026-10-26T01:15:00Z"),
            (Times{"2026-10-25T00:00:00Z", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z",
                   "2026-10-25T00:45:00Z", "2026-10-26T01:00:00Z", "2026-10-26T01:15:00Z"}));
  // Asked from inside the second 02:xx, it waits for the next day.
  Cron quarter_to_three = Cron::Parse("45 2 * * *", "Europe/Paris");
  EXPECT_EQ(NextAfter(quarter_to_three, "2026-10-25T01:10:00Z"), "2026-10-26T01:45:00Z");
  EXPECT_EQ(NextAfter(quarter_to_three, "2026-10-25T00:50:00Z"), "2026-10-26T01:45:00Z");
  EXPECT_EQ(NextAfter(quarter_to_three, "2026-10-25T00:40:00Z"), "2026-10-25T00:45:00Z");
}

TEST(Cron, ParisHalfHourlyAcrossTheChanges) {
  Cron cron = Cron::Parse("*/30 * * * *", "Europe/Paris");
  // Local 00:00 to 04:00 on 2026-03-29 is three real hours: 02:00 and 02:30 are skipped.
  Times spring = Fires(cron, "2026-03-28T23:00:00Z", "2026-03-29T02:00:00Z");
  EXPECT_EQ(spring, (Times{"2026-03-28T23:30:00Z",     // 00:30 CET
                           "2026-03-29T00:00:00Z",     // 01:00 CET
                           "2026-03-29T00:30:00Z",     // 01:30 CET
                           "2026-03-29T01:00:00Z",     // 03:00 CEST
                           "2026-03-29T01:30:00Z",     // 03:30 CEST
                           "2026-03-29T02:00:00Z"}));  // 04:00 CEST
  EXPECT_EQ(spring.size(), 6u);
  // Local 00:00 to 04:00 on 2026-10-25 is five real hours: 02:00 and 02:30 fire twice.
  Times fall = Fires(cron, "2026-10-24T22:00:00Z", "2026-10-25T03:00:00Z");
  EXPECT_EQ(fall, (Times{"2026-10-24T22:30:00Z",     // 00:30 CEST
                         "2026-10-24T23:00:00Z",     // 01:00 CEST
                         "2026-10-24T23:30:00Z",     // 01:30 CEST
                         "2026-10-25T00:00:00Z",     // 02:00 CEST
                         "2026-10-25T00:30:00Z",     // 02:30 CEST
                         "2026-10-25T01:00:00Z",     // 02:00 CET
                         "2026-10-25T01:30:00Z",     // 02:30 CET
                         "2026-10-25T02:00:00Z",     // 03:00 CET
                         "2026-10-25T02:30:00Z",     // 03:30 CET
                         "2026-10-25T03:00:00Z"}));  // 04:00 CET
  EXPECT_EQ(fall.size(), 10u);
  // Asked from inside the second 02:xx, the wildcard job carries on.
  EXPECT_EQ(NextAfter(cron, "2026-10-25T01:10:00Z"), "2026-10-25T01:30:00Z");
}

TEST(Cron, ParisHourlyWildcardSkipsAndRepeats) {
  Cron cron = Cron::Parse("15 * * * *", "Europe/Paris");
  EXPECT_EQ(Fires(cron, "2026-03-28T23:00:00Z", "2026-03-29T02:00:00Z"),
            (Times{"2026-03-28T23:15:00Z", "2026-03-29T00:15:00Z", "2026-03-29T01:15:00Z"}));
  EXPECT_EQ(Fires(cron, "2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z"),
            (Times{"2026-10-24T23:15:00Z", "2026-10-25T00:15:00Z", "2026-10-25T01:15:00Z"}));
}

TEST(Cron, HourStepCountsAsWildcardHour) {
  // */2 starts with *: 02:00 is skipped in the gap. 0-23/2 is fixed: it fires when the gap ends.
  EXPECT_EQ(Fires(Cron::Parse("0 */2 * * *", "Europe/Paris"), "2026-03-28T22:00:00Z",
                  "2026-03-29T04:00:00Z"),
            (Times{"2026-03-28T23:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T04:00:00Z"}));
  EXPECT_EQ(Fires(Cron::Parse("0 0-23/2 * * *", "Europe/Paris"), "2026-03-28T22:00:00Z",
                  "2026-03-29T04:00:00Z"),
            (Times{"2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z",
                   "2026-03-29T04:00:00Z"}));
}

TEST(Cron, ParisDailyStaysAtNineLocal) {
  Cron cron = Cron::Parse("0 9 * * *", "Europe/Paris");
  EXPECT_EQ(Fires(cron, "2026-03-27T12:00:00Z", "2026-03-31T12:00:00Z"),
            (Times{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z",
                   "2026-03-31T07:00:00Z"}));
  EXPECT_EQ(Fires(cron, "2026-10-23T12:00:00Z", "2026-10-26T12:00:00Z"),
            (Times{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"}));
}

// --- Daylight saving: America/New_York ------------------------------------------------------
// EST is UTC-5, EDT UTC-4. 2026-03-08 07:00Z: 02:00 EST -> 03:00 EDT (02:xx does not exist).
// 2026-11-01 06:00Z: 02:00 EDT -> 01:00 EST (01:xx happens twice, at 05:xxZ and 06:xxZ).

TEST(Cron, NewYorkSpringForwardFixedHourFiresWhenTheGapEnds) {
  Cron cron = Cron::Parse("30 2 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, "2026-03-06T12:00:00Z", "2026-03-10T00:00:00Z"),
            (Times{"2026-03-07T07:30:00Z",     // 02:30 EST
                   "2026-03-08T07:00:00Z",     // 02:30 does not exist: 03:00 EDT
                   "2026-03-09T06:30:00Z"}));  // 02:30 EDT
}

TEST(Cron, NewYorkFallBackFixedHourFiresOnceAtTheFirstOccurrence) {
  Cron cron = Cron::Parse("30 1 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, "2026-10-30T12:00:00Z", "2026-11-03T00:00:00Z"),
            (Times{"2026-10-31T05:30:00Z",     // 01:30 EDT
                   "2026-11-01T05:30:00Z",     // the first 01:30 (EDT); not 06:30Z
                   "2026-11-02T06:30:00Z"}));  // 01:30 EST
  EXPECT_EQ(NextAfter(Cron::Parse("45 1 * * *", "America/New_York"), "2026-11-01T06:10:00Z"),
            "2026-11-02T06:45:00Z");
  // 02:30 exists once on that day (EST).
  EXPECT_EQ(NextAfter(Cron::Parse("30 2 * * *", "America/New_York"), "2026-11-01T00:00:00Z"),
            "2026-11-01T07:30:00Z");
}

TEST(Cron, NewYorkHalfHourlyAcrossTheChanges) {
  Cron cron = Cron::Parse("*/30 * * * *", "America/New_York");
  // Local 00:00 to 04:00 on 2026-03-08 is three real hours.
  Times spring = Fires(cron, "2026-03-08T05:00:00Z", "2026-03-08T08:00:00Z");
  EXPECT_EQ(spring, (Times{"2026-03-08T05:30:00Z",     // 00:30 EST
                           "2026-03-08T06:00:00Z",     // 01:00 EST
                           "2026-03-08T06:30:00Z",     // 01:30 EST
                           "2026-03-08T07:00:00Z",     // 03:00 EDT
                           "2026-03-08T07:30:00Z",     // 03:30 EDT
                           "2026-03-08T08:00:00Z"}));  // 04:00 EDT
  EXPECT_EQ(spring.size(), 6u);
  // Local 00:00 to 04:00 on 2026-11-01 is five real hours: 01:00 and 01:30 fire twice.
  Times fall = Fires(cron, "2026-11-01T04:00:00Z", "2026-11-01T09:00:00Z");
  EXPECT_EQ(fall, (Times{"2026-11-01T04:30:00Z",     // 00:30 EDT
                         "2026-11-01T05:00:00Z",     // 01:00 EDT
                         "2026-11-01T05:30:00Z",     // 01:30 EDT
                         "2026-11-01T06:00:00Z",     // 01:00 EST
                         "2026-11-01T06:30:00Z",     // 01:30 EST
                         "2026-11-01T07:00:00Z",     // 02:00 EST
                         "2026-11-01T07:30:00Z",     // 02:30 EST
                         "2026-11-01T08:00:00Z",     // 03:00 EST
                         "2026-11-01T08:30:00Z",     // 03:30 EST
                         "2026-11-01T09:00:00Z"}));  // 04:00 EST
  EXPECT_EQ(fall.size(), 10u);
}

TEST(Cron, NewYorkDailyStaysAtNineLocal) {
  Cron cron = Cron::Parse("0 9 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, "2026-03-06T18:00:00Z", "2026-03-09T18:00:00Z"),
            (Times{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"}));
  EXPECT_EQ(Fires(cron, "2026-10-30T18:00:00Z", "2026-11-02T18:00:00Z"),
            (Times{"2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"}));
}

TEST(Cron, NewYorkEveryMinuteForAWeekAroundEachChange) {
  // A wildcard-hour job follows elapsed time: 7 x 1440 fires in any week. A fixed-hour job that
  // selects every minute loses nothing in spring (each real minute has a local time) but fires
  // only once for the 60 repeated minutes in the fall (06:00Z-06:59Z are the second 01:xx).
  Cron wildcard = Cron::Parse("* * * * *", "America/New_York");
  Cron fixed = Cron::Parse("* 0-23 * * *", "America/New_York");
  auto count = [](const Cron& cron, const std::string& from, const std::string& to) {
    return cron.Between(Ms(from), Ms(to), 100000).size();
  };
  EXPECT_EQ(count(wildcard, "2026-03-05T00:00:00Z", "2026-03-12T00:00:00Z"), 10080u);
  EXPECT_EQ(count(fixed, "2026-03-05T00:00:00Z", "2026-03-12T00:00:00Z"), 10080u);
  EXPECT_EQ(count(wildcard, "2026-10-29T00:00:00Z", "2026-11-05T00:00:00Z"), 10080u);
  EXPECT_EQ(count(fixed, "2026-10-29T00:00:00Z", "2026-11-05T00:00:00Z"), 10020u);
  EXPECT_EQ(NextAfter(fixed, "2026-11-01T05:59:00Z"), "2026-11-01T07:00:00Z");
}

}  // namespace
}  // namespace sluice::orchestrator
