#pragma once
// Cron schedules for workflow triggers (`schedule: "CRON"` with `timezone:`).
//
// Syntax: the five classic fields "minute hour day-of-month month day-of-week", each a
// comma-separated list of `*`, numbers, ranges `1-5` and steps `*/15` or `10-40/10`. Months may
// be written jan..dec and days sun..sat (case-insensitive, also inside ranges: mon-fri).
// Day-of-week takes 0-7, where 0 and 7 are both Sunday; a range ending in Sunday may be written
// `fri-sun` (5-0 is read as 5-7). The macros @yearly (= @annually), @monthly, @weekly, @daily
// (= @midnight) and @hourly stand for "0 0 1 1 *", "0 0 1 * *", "0 0 * * 0", "0 0 * * *" and
// "0 * * * *". As in Vixie cron, a field "is `*`" when its text starts with `*` (so `*/2`
// counts), and:
//   - when both day-of-month and day-of-week are restricted (neither is `*`), a day matches if
//     EITHER matches ("0 0 13 * fri" runs on every 13th and on every Friday); otherwise both
//     must match (which just means the restricted one).
//
// Time zones and daylight saving (the rules of Vixie cron / cronie): the expression selects
// wall-clock times in `timezone` (an IANA name; conversions use the tz database, never the TZ
// environment variable).
//   - Spring forward, when a local time does not exist: a job whose hour field is fixed (not
//     `*`, e.g. "30 2 * * *") fires once, at the instant the gap ends (03:00 local in
//     Europe/Paris on 2026-03-29), however many of its times fall in the gap. A job whose hour
//     is `*` (e.g. "*/15 * * * *") has no fire times inside the gap; they are skipped.
//   - Fall back, when a local time occurs twice: a job with a fixed hour fires once, at the
//     first occurrence. A job whose hour is `*` fires at both occurrences, so it keeps following
//     elapsed time ("*/15 * * * *" stays every 15 minutes through the repeated hour).
// (cronie also counts a `*` minute field as a wildcard job; here only the hour field decides, so
// "*/15 2 * * *" fires four times, not eight, on the night 02:00-02:59 repeats.)
//
// A Cron is immutable after Parse and safe to use from several threads.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace date {
class time_zone;
}

namespace sluice::orchestrator {

class Cron {
 public:
  // Parses a cron expression for wall-clock times in `timezone`. Errors throw
  // sluice::Error(ErrorKind::kConfig) naming the field and the bad text, e.g.
  // "cron '0 25 * * *': hour '25' is out of range 0-23" or "unknown time zone 'Europe/Pari'".
  static Cron Parse(const std::string& expression, const std::string& timezone = "UTC");

  // The first fire time strictly after `after_ms` (milliseconds since the Unix epoch, UTC), or
  // -1 when there is none within the next 10 years (e.g. "0 0 30 2 *"); the horizon is long
  // enough for "0 0 29 2 *" to reach the next leap day even across 2100, which is not one.
  int64_t Next(int64_t after_ms) const;
  // The fire times in (from_ms, to_ms], in order, at most `limit` of them.
  std::vector<int64_t> Between(int64_t from_ms, int64_t to_ms, size_t limit) const;

  const std::string& expression() const { return expression_; }
  const std::string& timezone() const { return timezone_; }

 private:
  Cron() = default;

  bool DayMatches(unsigned day_of_month, unsigned day_of_week) const;
  // The first local wall-clock minute at or after `local_s` (seconds since 1970-01-01T00:00 local)
  // that the fields select, on a day no later than `last_day` (days since 1970-01-01).
  std::optional<int64_t> NextLocal(int64_t local_s, int64_t last_day) const;
  // The instant (seconds since the epoch) a selected local time fires at, for a fixed-hour job.
  int64_t Resolve(int64_t local_s) const;

  std::string expression_;
  std::string timezone_;
  const date::time_zone* zone_ = nullptr;
  uint64_t minutes_ = 0;   // bit m: minute m (0-59)
  uint32_t hours_ = 0;     // bit h: hour h (0-23)
  uint32_t days_ = 0;      // bit d: day of month d (1-31)
  uint32_t months_ = 0;    // bit m: month m (1-12)
  uint32_t weekdays_ = 0;  // bit d: day of week d (0-6, Sunday = 0)
  bool hour_star_ = false;
  bool day_star_ = false;
  bool weekday_star_ = false;
};

}  // namespace sluice::orchestrator
