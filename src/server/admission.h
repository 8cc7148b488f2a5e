#pragma once
// What a request must pass before any handler reads its body or does work for it: the Host it
// names (DNS rebinding), the origin it comes from (cross-site requests), the nesting of its JSON
// body (nothing recursive ever sees a body deeper than the limit), and the rate of run creation.
// Pure functions over header values, so each rule is tested without a socket.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"  // JsonDepth

namespace sluice::server {

// The host of a Host header value or an origin's authority: lowercased, port and IPv6 brackets
// removed ("[::1]:8686" -> "::1").
std::string HostName(std::string_view authority);

// Whether `host` (no port) is "localhost" or a loopback address (127.0.0.0/8, ::1).
bool IsLoopback(std::string_view host);

// Whether a request's Host header names this server: an `allowed` name, the listen address
// itself, a loopback name when it listens on loopback or on every address, or any IP address
// when it listens on every address (a rebinding page always sends its own name).
bool HostAllowed(std::string_view host_header, std::string_view listen_host,
                 const std::vector<std::string>& allowed);

// Whether a request may come from where its Origin and Sec-Fetch-Site headers (either may be
// empty) say: no Origin and a same-origin or user-initiated fetch, or an Origin whose authority
// is the Host header's, or whose host is `allowed` (a cross-site fetch only from an allowed one).
bool OriginAllowed(std::string_view origin, std::string_view sec_fetch_site,
                   std::string_view host_header, const std::vector<std::string>& allowed);

// A token bucket of `per_minute` runs, full at first, refilled continuously. Thread-safe.
class RateLimit {
 public:
  // 0 when one more run may start at `now_ms` (it is counted), else the whole seconds to wait.
  int64_t Take(int per_minute, int64_t now_ms);

 private:
  std::mutex mu_;
  double tokens_ = -1;  // -1: not started
  int64_t last_ms_ = 0;
};

}  // namespace sluice::server
