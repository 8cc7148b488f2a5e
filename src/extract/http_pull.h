#pragma once
// Pulling records from an HTTP API (a source's `extract: { http: ... }`): requests with auth,
// pagination in dlt's styles, retries with backoff and Retry-After, a request rate limit. The
// pure parts (Link headers, Retry-After, JSON paths, cursor values) are free functions, each
// tested alone and fuzzed (fuzz/http_extract.cc).
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"
#include "project/project.h"

namespace sluice::extract {

using nlohmann::json;

// The deepest nesting a response may have: deeper pages are refused (extract.bad_page) before
// nlohmann::json parses them.
inline constexpr int kMaxJsonDepth = 64;

// The URL of the link with relation `rel` in a Link header value (RFC 8288:
// `<https://api/x?page=2>; rel="next", <...>; rel="last"`), or nullopt.
std::optional<std::string> LinkWithRel(std::string_view header, std::string_view rel);

// How long a Retry-After value asks to wait, in ms from `now_ms`: delta-seconds ("120") or an
// IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"); nullopt when it is neither. A date in the past
// is 0.
std::optional<int64_t> RetryAfterMs(std::string_view value, int64_t now_ms);

// The value at the dotted `path` of `doc` ("" is doc itself; a segment of digits also indexes
// an array), or null when there is none.
const json* JsonAt(const json& doc, std::string_view path);

// `next` (absolute, or relative to `from`) as an absolute URL, or nullopt when it is no http(s)
// URL or names another scheme, host or port than `from` (credentials never leave the API's
// origin).
std::optional<std::string> ResolveSameOrigin(std::string_view from, std::string_view next);

// Cursor values of incremental extraction: numbers compare as numbers; texts that read as
// ISO-8601 timestamps ("2024-05-01T10:00:00Z", with fractions or an offset) as instants; other
// texts byte by byte. Throws Error(kInput, extract.bad_cursor) for a value of another kind (an
// object, a list, a bool, null) or two that cannot be compared (a number and a text).
int CompareCursor(const json& a, const json& b);
// A cursor value read once, for comparing many times (CompareCursor's rules).
struct CursorKey {
  enum Kind { kInteger, kReal, kInstant, kText } kind = kInteger;
  __int128 integer = 0;  // kInteger (int64 or uint64); kInstant: microseconds since the epoch
  double real = 0;       // kReal, and kInteger as a double
  std::string text;      // kInstant, kText
};
CursorKey CursorKeyOf(const json& value);  // throws as CompareCursor
int CompareKeys(const CursorKey& a, const CursorKey& b);
// `value` less `lag` seconds (a number less lag; a timestamp text an instant `lag` seconds
// earlier, written in UTC as YYYY-MM-DDTHH:MM:SS[.ffffff]Z). Throws Error(kInput,
// extract.bad_cursor) for a text that is no timestamp when lag > 0.
json LaggedCursor(const json& value, double lag);

// The records of one answer `body` of `url` at the dotted `records` path ("" the body), each a
// JSON value safe to dump. Throws Error(kInput, extract.bad_page) for an answer that is no JSON,
// is nested deeper than kMaxJsonDepth, or holds no list there.
std::vector<json> ParseRecords(const std::string& url, const std::string& body,
                               const std::string& records);

// What one pull did.
struct PullStats {
  int64_t requests = 0;  // every request sent: pages, retries, tokens
  int64_t pages = 0;
};

// Pulls the pages of `spec`, in order, handing each page's records to `on_records`. `since` is
// the incremental parameter's value (nullopt: not sent). Throws sluice::Error: kInput with
// extract.bad_page (a page that is no JSON, nested too deep, without the records at `records:`
// or not a list there, a pagination that repeats itself or leaves the API's host),
// extract.http_status (kIo: 429, 408 or 5xx to every attempt), kConfig with extract.refused (any
// other 4xx: not retried), net.* from the HTTP client after the retries, kInterrupted when
// Interrupted() turns true (while waiting too). Messages name the URL with secrets removed.
PullStats Pull(const project::HttpExtract& spec, const std::optional<std::string>& since,
               const std::function<void(std::vector<json>& records)>& on_records);

}  // namespace sluice::extract
