#include "extract/http_pull.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "common/interrupt.h"
#include "common/one_line.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"

namespace sluice::extract {
namespace {

using project::HttpAuthKind;
using project::HttpExtract;
using project::PaginatorKind;

// Percent-encodes all but RFC 3986's unreserved characters.
std::string Encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string WithQuery(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  if (params.empty()) return url;
  std::vector<std::string> parts;
  for (const auto& [k, v] : params) parts.push_back(Encode(k) + "=" + Encode(v));
  return url + (url.find('?') == std::string::npos ? "?" : "&") + Join(parts, "&");
}

// "scheme://host:port" of an http(s) URL, lower case, with the default port made explicit.
std::optional<std::string> Origin(std::string_view url) {
  static const std::regex re(R"(^(https?)://([^/?#@\s]+)([/?#].*)?$)", std::regex::icase);
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(url.begin(), url.end(), m, re)) return std::nullopt;
  std::string scheme = ToLower(m[1].str()), host = ToLower(m[2].str());
  if (host.find(':') == std::string::npos || host.back() == ']') {
    host += scheme == "https" ? ":443" : ":80";
  }
  return scheme + "://" + host;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// An ISO-8601 timestamp as microseconds since the epoch (UTC), or nullopt:
// YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|z|+HH:MM|+HHMM|-...]. By hand: it runs once per record.
std::optional<int64_t> IsoMicros(std::string_view t) {
  auto digits = [&](size_t at, size_t n) -> std::optional<int64_t> {
    if (at + n > t.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 19 || t.size() > 64 || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto y = digits(0, 4), mon = digits(5, 2), day = digits(8, 2), h = digits(11, 2),
       mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mon || !day || !h || !mi || !s || *mon < 1 || *mon > 12 || *day < 1 || *day > 31 ||
      *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t micros = 0;
  if (i < t.size() && t[i] == '.') {
    size_t from = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    size_t n = i - from;
    if (n < 1 || n > 9) return std::nullopt;
    int64_t frac = *digits(from, std::min<size_t>(n, 6));
    for (size_t k = n; k < 6; ++k) frac *= 10;
    micros = frac;
  }
  int64_t offset_s = 0;
  if (i < t.size()) {
    if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == t.size()) {
      ++i;
    } else if (t[i] == '+' || t[i] == '-') {
      int sign = t[i] == '-' ? -1 : 1;
      auto oh = digits(i + 1, 2);
      size_t m_at = i + 3 < t.size() && t[i + 3] == ':' ? i + 4 : i + 3;
      auto om = digits(m_at, 2);
      if (!oh || !om || m_at + 2 != t.size() || *oh > 23 || *om > 59) return std::nullopt;
      offset_s = sign * (*oh * 3600 + *om * 60);
      i = t.size();
    } else {
      return std::nullopt;
    }
  }
  int64_t days = DaysFromCivil(*y, static_cast<unsigned>(*mon), static_cast<unsigned>(*day));
  return ((days * 86400 + *h * 3600 + *mi * 60 + *s) - offset_s) * 1'000'000 + micros;
}

std::string IsoFromMicros(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1'000'000 : -((-micros + 999'999) / 1'000'000);
  int64_t frac = micros - secs * 1'000'000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac) out += fmt::format(".{:06}", frac);
  return out + "Z";
}

[[noreturn]] void BadCursor(const std::string& message) {
  FailWithCode(ErrorKind::kInput, "extract.bad_cursor", "{}", message);
}

std::string Shown(const json& v) {
  std::string text = v.dump();
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

void CheckCursorKind(const json& v) {
  if (!v.is_number() && !v.is_string()) {
    BadCursor(fmt::format("an incremental cursor must be a number or a text, not {}", Shown(v)));
  }
}

// One request at a time at most `rate` per second, with retries.
class Requester {
 public:
  explicit Requester(const HttpExtract& spec)
      : spec_(spec),
        client_([&] {
          net::Options o;
          o.timeout_ms = spec.timeout_ms;
          o.connect_timeout_ms = std::min<int64_t>(spec.timeout_ms, 10'000);
          o.max_response_bytes = static_cast<size_t>(spec.max_page_bytes);
          return o;
        }()),
        random_(std::random_device{}()) {
    // The forms secrets take on the wire are secrets too: percent-encoded in a query, and the
    // base64 of basic auth (an API may echo either in an error).
    const auto& a = spec.auth;
    for (const auto& v : {a.token, a.password, a.api_key, a.client_secret}) {
      if (!v.empty()) RegisterSecret(Encode(v));
    }
    if (a.kind == HttpAuthKind::kBasic) RegisterSecret(Base64(a.username + ":" + a.password));
    for (const auto& [k, v] : spec.params) {
      if (IsSecret(v)) RegisterSecret(Encode(v));
    }
  }

  int64_t requests() const { return requests_; }

  // The answer to GET `url` (a success), with the source's auth and headers.
  net::Response Get(const std::string& url) {
    bool refreshed = false;
    for (int attempt = 1;; ++attempt) {
      net::Request request;
      request.url = url;
      request.headers = spec_.headers;
      Authorize(request);
      std::optional<net::Response> response;
      try {
        response = Send(request);
      } catch (const Error& e) {
        // Timeouts, refused and cut connections are tried again; a page too large is not.
        if (e.kind() != ErrorKind::kIo || e.code() == "net.too_large" ||
            attempt >= spec_.attempts) {
          throw;
        }
      }
      if (response && response->Success()) return *response;
      int64_t wait = Backoff(attempt);
      if (response) {
        long status = response->status;
        if (status == 401 && spec_.auth.kind == HttpAuthKind::kOAuth2ClientCredentials &&
            !refreshed) {
          token_.clear();  // expired or revoked: one new token, at once
          refreshed = true;
          --attempt;
          continue;
        }
        std::string body = OneLine(response->body);
        if (body.size() > 300) body = body.substr(0, 300) + "...";
        if (!body.empty()) body = ": " + body;
        bool retry = status == 429 || status == 408 || status >= 500;
        if (status >= 300 && status < 400) {
          std::string to = OneLine(response->Header("location").value_or(""));
          FailWithCode(ErrorKind::kConfig, "extract.refused",
                       "GET {}: HTTP {}: the API redirects{}\n  hint: Sluice does not follow "
                       "redirects (they could carry the credentials elsewhere); set base_url and "
                       "path to where it points",
                       response->url, status, to.empty() ? "" : " to " + net::RedactUrl(to));
        }
        if (!retry) {
          // The request itself is wrong: trying it again cannot help.
          FailWithCode(ErrorKind::kConfig, "extract.refused",
                       "GET {}: HTTP {}{}\n  hint: the API refused the request; check the "
                       "source's base_url, path, params and auth{}",
                       response->url, status, body,
                       status == 401 || status == 403 ? " (and the secret it names)" : "");
        }
        if (attempt >= spec_.attempts) {
          FailWithCode(ErrorKind::kIo, "extract.http_status",
                       "GET {}: HTTP {}{} (after {} attempts)", response->url, status, body,
                       attempt);
        }
        if (auto after = response->Header("retry-after")) {
          if (auto ms = RetryAfterMs(*after, NowMs())) wait = std::min(*ms, spec_.max_delay_ms);
        }
      }
      Sleep(wait);
    }
  }

 private:
  net::Response Send(const net::Request& request) {
    Pace();
    ++requests_;
    return client_.Send(request);
  }

  // Waits until the next request may start under requests_per_second.
  void Pace() {
    if (spec_.requests_per_second <= 0) return;
    auto gap =
        std::chrono::microseconds(static_cast<int64_t>(1'000'000.0 / spec_.requests_per_second));
    auto now = std::chrono::steady_clock::now();
    if (last_ && now < *last_ + gap) {
      Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(*last_ + gap - now).count() + 1);
    }
    last_ = std::chrono::steady_clock::now();
  }

  // Full jitter: a uniform wait in [0, min(max_delay, backoff * 2^(attempt-1))].
  int64_t Backoff(int attempt) {
    double cap = std::min<double>(
        static_cast<double>(spec_.max_delay_ms),
        static_cast<double>(spec_.backoff_ms) * std::pow(2.0, std::min(attempt - 1, 30)));
    std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(cap));
    return pick(random_);
  }

  void Sleep(int64_t ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      if (Interrupted()) Fail(ErrorKind::kInterrupted, "extraction interrupted");
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(50), end - std::chrono::steady_clock::now()));
    }
    if (Interrupted()) Fail(ErrorKind::kInterrupted, "extraction interrupted");
  }

  void Authorize(net::Request& request) {
    const auto& a = spec_.auth;
    switch (a.kind) {
      case HttpAuthKind::kNone:
        break;
      case HttpAuthKind::kBearer:
        request.headers.emplace_back("Authorization", "Bearer " + a.token);
        break;
      case HttpAuthKind::kBasic:
        request.headers.emplace_back("Authorization",
                                     "Basic " + Base64(a.username + ":" + a.password));
        break;
      case HttpAuthKind::kApiKey:
        if (a.in_query) {
          request.url = WithQuery(request.url, {{a.name, a.api_key}});
        } else {
          request.headers.emplace_back(a.name, a.api_key);
        }
        break;
      case HttpAuthKind::kOAuth2ClientCredentials:
        request.headers.emplace_back("Authorization", "Bearer " + Token());
        break;
    }
  }

  // The OAuth2 access token, fetched (client credentials grant, RFC 6749 4.4) when there is none
  // or it expires within 30 s.
  const std::string& Token() {
    if (!token_.empty() && NowMs() < token_expires_ms_) return token_;
    const auto& a = spec_.auth;
    net::Request request;
    request.method = net::Method::kPost;
    request.url = a.access_token_url;
    request.headers = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
        {"Authorization", "Basic " + Base64(Encode(a.client_id) + ":" + Encode(a.client_secret))}};
    request.body = "grant_type=client_credentials";
    if (!a.scope.empty()) request.body += "&scope=" + Encode(a.scope);
    net::Response response;
    for (int attempt = 1;; ++attempt) {
      try {
        response = Send(request);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kIo || attempt >= spec_.attempts) throw;
        Sleep(Backoff(attempt));
        continue;
      }
      if (response.Success() || !(response.status == 429 || response.status >= 500) ||
          attempt >= spec_.attempts) {
        break;
      }
      Sleep(Backoff(attempt));
    }
    if (!response.Success()) {
      // A refusal (4xx) asks for other settings; anything else may pass on a later run.
      bool refused = response.status >= 400 && response.status < 500 && response.status != 408 &&
                     response.status != 429;
      FailWithCode(refused ? ErrorKind::kConfig : ErrorKind::kIo, "extract.oauth",
                   "POST {}: the token endpoint answered HTTP {}{}", response.url, response.status,
                   refused ? " (check client_id and client_secret)" : "");
    }
    json body = JsonDepth(response.body, kMaxJsonDepth) > kMaxJsonDepth
                    ? json()
                    : json::parse(response.body, nullptr, false);
    const json* token = body.is_object() ? JsonAt(body, "access_token") : nullptr;
    if (!token || !token->is_string() || token->get<std::string>().empty()) {
      FailWithCode(ErrorKind::kIo, "extract.oauth", "POST {}: the answer holds no access_token",
                   response.url);
    }
    token_ = token->get<std::string>();
    // It goes into a header: a line break would add headers of the token endpoint's choosing.
    if (token_.size() > 8192 || std::any_of(token_.begin(), token_.end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return u <= 0x20 || u == 0x7f;
        })) {
      token_.clear();
      FailWithCode(ErrorKind::kIo, "extract.oauth",
                   "POST {}: the access_token holds a space or control character, or is longer "
                   "than 8192 bytes",
                   response.url);
    }
    RegisterSecret(token_);
    int64_t expires_s = 3600;
    if (const json* e = JsonAt(body, "expires_in"); e && e->is_number()) {
      expires_s = std::clamp<int64_t>(e->get<int64_t>(), 0, int64_t{10} * 365 * 86400);
    }
    token_expires_ms_ = NowMs() + std::max<int64_t>(0, expires_s - 30) * 1000;
    return token_;
  }

  const HttpExtract& spec_;
  net::HttpClient client_;
  std::mt19937_64 random_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  int64_t requests_ = 0;
  std::string token_;
  int64_t token_expires_ms_ = 0;
};

[[noreturn]] void BadPage(const std::string& url, const std::string& what) {
  FailWithCode(ErrorKind::kInput, "extract.bad_page", "GET {}: {}", net::RedactUrl(url), what);
}

json ParsePage(const std::string& url, const std::string& body) {
  if (JsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    BadPage(url, fmt::format("the answer is nested deeper than {} levels", kMaxJsonDepth));
  }
  try {
    return json::parse(body);
  } catch (const json::exception& e) {  // a syntax error, a number too large for a double
    BadPage(url, fmt::format("the answer is no JSON ({})", OneLine(e.what())));
  }
}

std::vector<json> RecordsOf(const std::string& url, json& page, const std::string& path) {
  json* at = path.empty() ? &page : const_cast<json*>(JsonAt(page, path));
  if (!at) {
    BadPage(url, fmt::format("the answer has no `{}` (records:)", path));
  }
  if (!at->is_array()) {
    BadPage(url, path.empty() ? "the answer is no list of records (name the list with records:)"
                              : fmt::format("`{}` (records:) is no list", path));
  }
  std::vector<json> out;
  out.reserve(at->size());
  for (auto& r : *at) {
    if (!r.is_object()) {
      BadPage(url, fmt::format("record {} is {}, not a JSON object (a record with fields)",
                               out.size() + 1, r.type_name()));
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<json> ParseRecords(const std::string& url, const std::string& body,
                               const std::string& records) {
  json page = ParsePage(url, body);
  return RecordsOf(url, page, records);
}

namespace {

std::optional<int64_t> NumberAt(const json& page, const std::string& path) {
  if (path.empty()) return std::nullopt;
  const json* v = JsonAt(page, path);
  constexpr double kMax = 1e15;  // beyond any real total: no total
  if (v && v->is_number_unsigned()) {
    return v->get<uint64_t>() <= kMax ? std::optional<int64_t>(v->get<uint64_t>()) : std::nullopt;
  }
  if (v && v->is_number_integer()) return v->get<int64_t>();
  if (v && v->is_number()) {
    double d = v->get<double>();
    return std::isfinite(d) && std::abs(d) <= kMax ? std::optional<int64_t>(d) : std::nullopt;
  }
  if (v && v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (!s.empty() && s.size() < 16 && std::all_of(s.begin(), s.end(), ::isdigit)) {
      return std::stoll(s);
    }
  }
  return std::nullopt;
}

// The next page's cursor or link at `path`: nullopt when there is none (missing, null, empty);
// a value of another kind (a fraction, a bool, an object) is a bad page, not the end.
std::optional<std::string> TextAt(const std::string& url, const json& page,
                                  const std::string& path) {
  const json* v = JsonAt(page, path);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    if (v->get_ref<const std::string&>().empty()) return std::nullopt;
    return v->get<std::string>();
  }
  if (v->is_number_integer()) return v->dump();  // int64 and uint64 alike
  BadPage(url,
          fmt::format("`{}` holds {}, neither a text nor a whole number", path, v->type_name()));
}

}  // namespace

std::optional<std::string> LinkWithRel(std::string_view header, std::string_view rel) {
  size_t i = 0;
  while (i < header.size()) {
    size_t open = header.find('<', i);
    if (open == std::string_view::npos) return std::nullopt;
    size_t close = header.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view url = header.substr(open + 1, close - open - 1);
    // The parameters run to the next link: a ',' outside quotes.
    size_t end = close + 1;
    bool quoted = false;
    for (; end < header.size(); ++end) {
      if (header[end] == '"') quoted = !quoted;
      if (header[end] == ',' && !quoted) break;
    }
    std::string_view params = header.substr(close + 1, end - close - 1);
    for (const auto& param : Split(std::string(params), ';')) {
      std::string p = Trim(param);
      size_t eq = p.find('=');
      if (eq == std::string::npos || ToLower(Trim(p.substr(0, eq))) != "rel") continue;
      std::string value = Trim(p.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      for (const auto& r : Split(value, ' ')) {
        if (!r.empty() && ToLower(r) == ToLower(rel)) return std::string(url);
      }
    }
    i = end + 1;
  }
  return std::nullopt;
}

std::optional<int64_t> RetryAfterMs(std::string_view value, int64_t now_ms) {
  std::string v = Trim(value);
  if (!v.empty() && v.size() <= 10 && std::all_of(v.begin(), v.end(), ::isdigit)) {
    return std::stoll(v) * 1000;
  }
  static const std::regex date(
      R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT)");
  std::smatch m;
  if (!std::regex_match(v, m, date)) return std::nullopt;
  static const std::string months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  unsigned month = static_cast<unsigned>(months.find(m[3].str()) / 3 + 1);
  int64_t h = std::stoll(m[5].str()), mi = std::stoll(m[6].str()), s = std::stoll(m[7].str());
  int64_t day = std::stoll(m[2].str());
  if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t at_ms =
      (DaysFromCivil(std::stoll(m[4].str()), month, static_cast<unsigned>(day)) * 86400 + h * 3600 +
       mi * 60 + s) *
      1000;
  return std::max<int64_t>(0, at_ms - now_ms);
}

const json* JsonAt(const json& doc, std::string_view path) {
  const json* at = &doc;
  if (path.empty()) return at;
  for (const auto& part : Split(std::string(path), '.')) {
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array() && !part.empty() && part.size() < 10 &&
               std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t i = std::stoull(part);
      if (i >= at->size()) return nullptr;
      at = &(*at)[i];
    } else {
      return nullptr;
    }
  }
  return at;
}

std::optional<std::string> ResolveSameOrigin(std::string_view from, std::string_view next) {
  auto origin = Origin(from);
  if (!origin || next.empty() || next.size() > 8192) return std::nullopt;
  if (std::any_of(next.begin(), next.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return std::nullopt;
  }
  std::string url;
  if (next.substr(0, next.find_first_of("?#")).find("://") != std::string_view::npos) {
    url = std::string(next);
  } else if (next.substr(0, 2) == "//") {
    url = origin->substr(0, origin->find("://") + 1) + std::string(next);
  } else if (next.front() == '/') {
    size_t path = from.find('/', from.find("://") + 3);
    url = std::string(from.substr(0, path)) + std::string(next);
  } else if (next.front() == '?') {
    url = std::string(from.substr(0, from.find('?'))) + std::string(next);
  } else {
    std::string_view base = from.substr(0, from.find_first_of("?#"));
    size_t slash = base.rfind('/');
    url = std::string(base.substr(0, slash + 1)) + std::string(next);
  }
  auto to = Origin(url);
  if (!to || *to != *origin) return std::nullopt;
  return url;
}

CursorKey CursorKeyOf(const json& v) {
  CheckCursorKind(v);
  CursorKey k;
  if (v.is_number_integer()) {
    k.kind = CursorKey::kInteger;
    k.integer = v.is_number_unsigned() ? static_cast<__int128>(v.get<uint64_t>())
                                       : static_cast<__int128>(v.get<int64_t>());
    k.real = static_cast<double>(k.integer);
  } else if (v.is_number()) {
    k.kind = CursorKey::kReal;
    k.real = v.get<double>();
  } else {
    k.text = v.get<std::string>();
    auto micros = IsoMicros(k.text);
    k.kind = micros ? CursorKey::kInstant : CursorKey::kText;
    k.integer = micros.value_or(0);
  }
  return k;
}

int CompareKeys(const CursorKey& a, const CursorKey& b) {
  auto order = [](auto x, auto y) { return x < y ? -1 : x > y; };
  bool a_number = a.kind == CursorKey::kInteger || a.kind == CursorKey::kReal;
  bool b_number = b.kind == CursorKey::kInteger || b.kind == CursorKey::kReal;
  if (a_number != b_number) {
    BadCursor("incremental cursor values cannot be compared: a number and a text");
  }
  if (a_number) {
    if (a.kind == CursorKey::kInteger && b.kind == CursorKey::kInteger) {
      return order(a.integer, b.integer);
    }
    return order(a.real, b.real);
  }
  if (a.kind == CursorKey::kInstant && b.kind == CursorKey::kInstant) {
    return order(a.integer, b.integer);
  }
  return order(a.text, b.text);
}

int CompareCursor(const json& a, const json& b) {
  return CompareKeys(CursorKeyOf(a), CursorKeyOf(b));
}

json LaggedCursor(const json& value, double lag) {
  CheckCursorKind(value);
  if (lag <= 0) return value;
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>(), by = static_cast<uint64_t>(std::llround(lag));
    return v - std::min(v, by);
  }
  if (value.is_number_integer()) {
    return value.get<int64_t>() - static_cast<int64_t>(std::llround(lag));
  }
  if (value.is_number()) return value.get<double>() - lag;
  auto micros = IsoMicros(value.get_ref<const std::string&>());
  if (!micros) {
    BadCursor(
        fmt::format("incremental lag needs a number or an ISO-8601 timestamp, and the "
                    "cursor is {}",
                    Shown(value)));
  }
  return IsoFromMicros(*micros - static_cast<int64_t>(std::llround(lag * 1e6)));
}

PullStats Pull(const HttpExtract& spec, const std::optional<std::string>& since,
               const std::function<void(std::vector<json>& records)>& on_records) {
  Requester requester(spec);
  PullStats stats;
  std::string base = spec.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string first = base + (spec.path.empty() || spec.path.front() == '/' ? "" : "/") + spec.path;
  auto params = spec.params;
  if (spec.incremental && !spec.incremental->param.empty() && since) {
    params.emplace_back(spec.incremental->param, *since);
  }
  const auto& p = spec.paginator;
  int64_t page_number = p.base_page, offset = p.offset;
  std::optional<std::string> cursor;
  std::string url;
  std::set<std::string> seen;  // the pages asked for: a pagination that repeats one is refused
  std::string previous;        // the page before's answer
  for (;;) {
    auto page_params = params;
    switch (p.kind) {
      case PaginatorKind::kPageNumber:
        page_params.emplace_back(p.page_param, std::to_string(page_number));
        break;
      case PaginatorKind::kOffset:
        page_params.emplace_back(p.offset_param, std::to_string(offset));
        page_params.emplace_back(p.limit_param, std::to_string(p.limit));
        break;
      case PaginatorKind::kCursor:
        if (cursor) page_params.emplace_back(p.cursor_param, *cursor);
        break;
      default:
        break;
    }
    // json_link and header_link follow the API's own URL after the first page.
    if (url.empty() ||
        (p.kind != PaginatorKind::kJsonLink && p.kind != PaginatorKind::kHeaderLink)) {
      url = WithQuery(first, page_params);
    }
    if (!seen.insert(url).second) {
      BadPage(url, "the pagination asks for this page a second time (a loop)");
    }
    if (Interrupted()) Fail(ErrorKind::kInterrupted, "extraction interrupted");
    if (stats.pages >= spec.max_pages) {
      BadPage(url, fmt::format("more than {} pages (max_pages): a pagination that does not end? "
                               "Raise max_pages if the API truly has more",
                               spec.max_pages));
    }
    net::Response response = requester.Get(url);
    ++stats.pages;
    // An API that ignores the paging parameter answers every page alike: that never ends.
    if (stats.pages > 1 && p.kind != PaginatorKind::kSinglePage && response.body == previous) {
      BadPage(url,
              "the answer is the same as the page before: the pagination does not move "
              "(check the paginator's parameter names)");
    }
    previous = response.body;
    json page = ParsePage(url, response.body);
    std::vector<json> records = RecordsOf(url, page, spec.records);
    const bool empty = records.empty();
    on_records(records);
    std::optional<std::string> next;
    switch (p.kind) {
      case PaginatorKind::kSinglePage:
        break;
      case PaginatorKind::kPageNumber: {
        if (empty) break;
        auto total = NumberAt(page, p.total_path);
        if (total && page_number - p.base_page + 1 >= *total) break;
        if (p.maximum_page && page_number >= *p.maximum_page) break;
        ++page_number;
        next = "";
        break;
      }
      case PaginatorKind::kOffset: {
        if (empty) break;
        offset += p.limit;
        auto total = NumberAt(page, p.total_path);
        if (total && offset >= *total) break;
        if (p.maximum_offset && offset >= *p.maximum_offset) break;
        next = "";
        break;
      }
      case PaginatorKind::kCursor:
        cursor = TextAt(url, page, p.cursor_path);
        if (cursor) next = "";
        break;
      case PaginatorKind::kJsonLink:
        if (auto link = TextAt(url, page, p.next_url_path)) {
          next = *link;
        }
        break;
      case PaginatorKind::kHeaderLink:
        if (auto header = response.Header("link")) next = LinkWithRel(*header, p.links_next_key);
        break;
    }
    if (!next) break;
    if (p.kind == PaginatorKind::kJsonLink || p.kind == PaginatorKind::kHeaderLink) {
      auto resolved = ResolveSameOrigin(url, *next);
      if (!resolved) {
        BadPage(url, "the next page's link is no http(s) URL of the API's own host and port");
      }
      // The API's link carries its own paging; the source's api_key in the query goes again.
      url = *resolved;  // the API's link carries its own paging (Authorize adds the auth)
    }
  }
  stats.requests = requester.requests();
  return stats;
}

}  // namespace sluice::extract
