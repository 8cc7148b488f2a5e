#pragma once
// The one HTTP client (libcurl underneath; no other module includes curl). Notifications use it
// today; extraction from APIs and the S3 lake will.
//
// Fixed behaviour, whatever the options:
// - TLS peers are verified (certificate and host name); there is no switch to turn that off.
// - Proxies come from the environment exactly as libcurl reads them: `http_proxy` (lower case
//   only), `https_proxy` / `HTTPS_PROXY`, `all_proxy` / `ALL_PROXY`, and `no_proxy` / `NO_PROXY`.
// - Only http and https are spoken, also after a redirect.
// - Error messages name the method and the URL with secrets removed (RedactUrl, then the
//   registered secrets of common/redact.h); request headers and bodies never appear in them.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::net {

enum class Method { kGet, kHead, kPost, kPut, kDelete };
const char* MethodName(Method method);  // "GET", "POST", ...

// What a 3xx answer does.
enum class Redirects {
  kRefuse,  // not followed: the 3xx is the response (Response::ThrowUnlessSuccess reports it)
  kFollow,  // followed up to Options::max_redirects; Authorization is not sent to another host
};

// What a response body longer than Options::max_response_bytes does.
enum class Overflow {
  kFail,      // the request fails with net.too_large
  kTruncate,  // the body keeps its first max_response_bytes; the rest is read and dropped
};

struct Options {
  int64_t connect_timeout_ms = 10'000;  // to establish the connection (TCP and TLS)
  int64_t timeout_ms = 30'000;          // for the whole exchange, connecting included
  size_t max_response_bytes = 16 << 20;
  Overflow overflow = Overflow::kFail;
  Redirects redirects = Redirects::kRefuse;
  int max_redirects = 5;
  std::string ca_file;  // an extra CA bundle for TLS (empty: the system's)
  // When it turns true the request fails (net.cancelled); so it does on Ctrl-C/SIGTERM or a stop
  // of the calling thread's ScopedStop (common/interrupt.h).
  const std::atomic<bool>* cancel = nullptr;
};

struct Request {
  Method method = Method::kGet;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;                                          // sent for kPost and kPut
};

struct Response {
  Method method = Method::kGet;
  std::string url;  // as requested, redacted (for messages)
  long status = 0;
  // The headers of the final answer (not of a redirect or 100 Continue before it), names in lower
  // case, values trimmed, in the order received; at most kMaxHeaderBytes of them in all.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool truncated = false;  // Overflow::kTruncate cut the body

  static constexpr size_t kMaxHeaderBytes = 64 << 10;
  // The value of the first header called `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;

  bool Success() const { return status >= 200 && status < 300; }
  // Throws net.http_status (ErrorKind::kIo) unless Success(): "POST <url>: HTTP 500: <the start
  // of the body on one line>".
  void ThrowUnlessSuccess() const;
};

// Sends HTTP requests. Each Send is independent (its own connection), so one client may be used
// from any number of threads at once.
class HttpClient {
 public:
  explicit HttpClient(Options options = {});

  // The server's answer, whatever its status. Throws sluice::Error with ErrorKind::kIo and code:
  //   net.timeout   no connection within connect_timeout_ms or no complete answer in timeout_ms
  //   net.connect   the host does not resolve or refuses the connection
  //   net.tls       the TLS handshake or the peer's verification failed
  //   net.too_large the body passed max_response_bytes under Overflow::kFail
  //   net.redirect  more than max_redirects redirects under Redirects::kFollow
  //   net.transfer  any other failure while talking to the server
  // net.bad_url (ErrorKind::kConfig) for a URL that is malformed or not http(s), and
  // net.cancelled (ErrorKind::kInterrupted) when Options::cancel turned true.
  Response Send(const Request& request) const;

 private:
  Options options_;
};

// `url` fit for a message: the password of its userinfo and the values of query parameters whose
// name suggests a secret (token, key, secret, password, signature, auth, ...) become "***".
std::string RedactUrl(std::string_view url);

}  // namespace sluice::net
