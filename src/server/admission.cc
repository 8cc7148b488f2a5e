#include "server/admission.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

#include "common/strings.h"

namespace sluice::server {

namespace {
bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string HostName(std::string_view authority) {
  std::string host = ToLower(Trim(authority));
  // What may follow the name: nothing, or a port of digits.
  auto port_ok = [](std::string_view rest) {
    if (rest.empty()) return true;
    return rest.size() >= 2 && rest.size() <= 6 && rest[0] == ':' &&
           std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos || !port_ok(std::string_view(host).substr(close + 1))) return "";
    return host.substr(1, close - 1);
  }
  size_t colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
    if (!port_ok(std::string_view(host).substr(colon))) return "";
    host.resize(colon);
  } else if (colon != std::string::npos) {
    return IsIpAddress(host) ? host : "";  // more than one colon: only a bare IPv6 address
  }
  // A DNS name or an IPv4 address, nothing else ("127.0.0.1 evil.com", "a@b" are no hosts).
  bool name_chars = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
  return name_chars ? host : "";
}

namespace {

bool ListensEverywhere(const std::string& listen) {
  return listen.empty() || listen == "0.0.0.0" || listen == "::";
}

bool Allowed(const std::string& host, const std::vector<std::string>& allowed) {
  return std::find(allowed.begin(), allowed.end(), host) != allowed.end();
}

}  // namespace

bool IsLoopback(std::string_view host_view) {
  std::string host = HostName(host_view);
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool HostAllowed(std::string_view host_header, std::string_view listen_host,
                 const std::vector<std::string>& allowed) {
  std::string host = HostName(host_header);
  std::string listen = HostName(listen_host);
  if (host.empty()) return false;
  if (Allowed(host, allowed) || host == listen) return true;
  if (IsLoopback(host) && (IsLoopback(listen) || ListensEverywhere(listen))) return true;
  return ListensEverywhere(listen) && IsIpAddress(host);
}

bool OriginAllowed(std::string_view origin, std::string_view sec_fetch_site,
                   std::string_view host_header, const std::vector<std::string>& allowed) {
  std::string site = ToLower(Trim(sec_fetch_site));
  bool cross = !site.empty() && site != "same-origin" && site != "none";
  if (origin.empty()) return !cross;
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;  // "null" and anything malformed
  std::string_view authority = origin.substr(scheme + 3);
  if (Allowed(HostName(authority), allowed)) return true;
  return !cross && ToLower(authority) == ToLower(Trim(host_header));
}

int64_t RateLimit::Take(int per_minute, int64_t now_ms) {
  std::lock_guard lock(mu_);
  double per_ms = per_minute / 60000.0;
  if (tokens_ < 0) {
    tokens_ = per_minute;
  } else {
    tokens_ = std::min<double>(per_minute, tokens_ + (now_ms - last_ms_) * per_ms);
  }
  last_ms_ = now_ms;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - tokens_) / per_ms / 1000)));
}

}  // namespace sluice::server
