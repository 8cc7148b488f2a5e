#include "net/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "common/error.h"
#include "common/one_line.h"
#include "common/strings.h"
#include "net/curl.h"

namespace sluice::net {
namespace {

struct Sink {
  const Options* options;
  std::string* body;
  bool* truncated;
  bool overflowed = false;
};

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * count;
  size_t room = sink->options->max_response_bytes -
                std::min(sink->options->max_response_bytes, sink->body->size());
  if (len > room) {
    if (sink->options->overflow == Overflow::kFail) {
      sink->overflowed = true;
      return 0;  // aborts the transfer
    }
    *sink->truncated = true;
  }
  sink->body->append(data, std::min(len, room));
  return len;
}

// Header lines of the answer into Response::headers: a status line starts a new answer (after a
// redirect or 100 Continue), so only the last one's headers stay.
size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  size_t len = size * count;
  std::string_view line(data, len);
  if (line.substr(0, 5) == "HTTP/") {
    response->headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;  // the blank line at the end
  size_t held = 0;
  for (const auto& [n, v] : response->headers) held += n.size() + v.size();
  if (held + len > Response::kMaxHeaderBytes) return len;  // kept out, the transfer goes on
  response->headers.emplace_back(ToLower(Trim(line.substr(0, colon))),
                                 std::string(Trim(line.substr(colon + 1))));
  return len;
}

// Query parameter names whose values are secrets: a name is secret when it contains one of these.
constexpr std::array<std::string_view, 10> kSecretNames = {
    "token", "key", "secret", "password", "passwd", "pwd", "sig", "auth", "credential", "session"};

bool SecretName(std::string_view name) {
  std::string lower = ToLower(name);
  return std::any_of(kSecretNames.begin(), kSecretNames.end(),
                     [&](std::string_view s) { return lower.find(s) != std::string::npos; });
}

}  // namespace

const char* MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
  }
  return "GET";
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  // userinfo: scheme://user:password@host -> scheme://user:***@host
  size_t authority = out.find("://");
  if (authority != std::string::npos) {
    authority += 3;
    size_t end = out.find_first_of("/?#", authority);
    if (end == std::string::npos) end = out.size();
    size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= authority) {
      size_t colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  size_t query = out.find('?');
  if (query == std::string::npos) return out;
  size_t fragment = out.find('#', query);
  std::string tail = fragment == std::string::npos ? "" : out.substr(fragment);
  std::vector<std::string> params =
      Split(out.substr(query + 1,
                       fragment == std::string::npos ? std::string::npos : fragment - query - 1),
            '&');
  for (std::string& param : params) {
    size_t eq = param.find('=');
    if (eq != std::string::npos && SecretName(param.substr(0, eq)))
      param = param.substr(0, eq + 1) + "***";
  }
  return out.substr(0, query + 1) + Join(params, "&") + tail;
}

std::optional<std::string> Response::Header(std::string_view name) const {
  std::string lower = ToLower(name);
  for (const auto& [n, v] : headers) {
    if (n == lower) return v;
  }
  return std::nullopt;
}

void Response::ThrowUnlessSuccess() const {
  if (Success()) return;
  std::string answer = OneLine(body);
  internal::Throw({ErrorKind::kIo, "net.http_status"},
                  fmt::format("{} {}: HTTP {}{}", MethodName(method), url, status,
                              answer.empty() ? "" : ": " + answer));
}

HttpClient::HttpClient(Options options) : options_(std::move(options)) {}

Response HttpClient::Send(const Request& request) const {
  Response response;
  response.method = request.method;
  response.url = RedactUrl(request.url);
  const std::string what = fmt::format("{} {}", MethodName(request.method), response.url);

  internal::Easy easy;
  CURL* h = easy.get();
  easy.SetCommon(request.url, "http,https", options_.connect_timeout_ms, options_.timeout_ms,
                 options_.ca_file, options_.cancel);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice");
  if (options_.redirects == Redirects::kFollow) {
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(options_.max_redirects));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  internal::StringList headers;
  for (const auto& [name, value] : request.headers) headers.Add(name + ": " + value);
  switch (request.method) {
    case Method::kGet:
      break;
    case Method::kHead:
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
      break;
    case Method::kPost:
    case Method::kPut:
      if (request.method == Method::kPut) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      headers.Add("Expect:");  // no 100-continue round trip
      break;
    case Method::kDelete:
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
      break;
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (options_.overflow == Overflow::kFail) {
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_response_bytes));
  }
  Sink sink{&options_, &response.body, &response.truncated};
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);

  CURLcode code = curl_easy_perform(h);
  if (sink.overflowed || code == CURLE_FILESIZE_EXCEEDED) {
    internal::Throw(
        {ErrorKind::kIo, "net.too_large"},
        fmt::format("{}: the response is larger than {} bytes", what, options_.max_response_bytes));
  }
  if (code != CURLE_OK) {
    internal::Throw(internal::Classify(code),
                    fmt::format("{}: {}", what, internal::Words(code, easy)));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace sluice::net
