#include "server/router.h"

#include <algorithm>

#include "api/errors.h"
#include "common/strings.h"

namespace sluice::server {

std::string Request::Param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

Response Response::Json(int status, const nlohmann::json& value) {
  Response r;
  r.status = status;
  r.body = value.dump(2) + "\n";
  return r;
}

HttpError::HttpError(int status, std::string code, const std::string& message)
    : Error(status >= 500 ? ErrorKind::kIo : ErrorKind::kInput, std::move(code), message),
      status_(status) {}

Response ErrorResponse(const Error& e) {
  int status = 500;
  auto* http = dynamic_cast<const HttpError*>(&e);
  if (http) {
    status = http->status();
  } else if (e.kind() == ErrorKind::kUsage || e.kind() == ErrorKind::kConfig ||
             e.kind() == ErrorKind::kInput) {
    status = 400;
  } else if (e.kind() == ErrorKind::kConflict) {
    status = 409;  // a lost race (run.conflict, publish.conflict): the caller may try again
  }
  Response r = Response::Json(status, api::ErrorJson(e));
  if (http) r.headers = http->headers;
  return r;
}

namespace {

bool SegmentMatches(const std::string& pattern, std::string_view segment) {
  if (pattern == "{id}") {
    return !segment.empty() &&
           std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  if (pattern == "{name}") {
    return !segment.empty() && std::all_of(segment.begin(), segment.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  }
  return pattern == segment;
}

}  // namespace

void Router::Add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
  routes_.push_back({method, Split(pattern, '/'), std::move(handler), options});
}

std::optional<Router::Match> Router::Find(Method method, std::string_view path) const {
  std::vector<std::string> segments = Split(path, '/');
  for (const auto& route : routes_) {
    if (route.method != method || route.segments.size() != segments.size()) continue;
    Match match{&route, {}};
    bool all = true;
    for (size_t i = 0; i < segments.size() && all; ++i) {
      all = SegmentMatches(route.segments[i], segments[i]);
      if (all && route.segments[i].starts_with('{')) match.captures.push_back(segments[i]);
    }
    if (all) return match;
  }
  return std::nullopt;
}

}  // namespace sluice::server
