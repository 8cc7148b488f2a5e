#pragma once
// The vocabulary of the HTTP API's handlers: a Request as a handler sees it, the Response it
// answers, the HttpError it throws, and the Router that leads a method and a path to a handler.
// Handlers are registered per resource (server/routes.h); the server (server/http.h) admits a
// request, reads its body and runs its handler.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace sluice::server {

enum class Method { kGet, kPost };

struct Request {
  Method method = Method::kGet;
  std::string path;
  // The {id} and {name} segments of the route's pattern, in order.
  std::vector<std::string> captures;
  // The first value of each query parameter (decoded); a parameter without '=' has "".
  std::map<std::string, std::string> query;
  // A POST's body: the JSON object sent, {} when it sent none. GET handlers see null.
  nlohmann::json body;

  bool Has(const std::string& name) const { return query.count(name) > 0; }
  // A query parameter's value, "" when absent.
  std::string Param(const std::string& name) const;
};

// A body produced bit by bit (a followed log): the server calls Next from one thread, never two
// at once, about every 100 ms while the client keeps up. Next appends what is new to `out` and
// returns true when the stream has ended (after what it appended).
class Stream {
 public:
  virtual ~Stream() = default;
  virtual bool Next(std::string& out) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<Stream> stream;  // set: the body is streamed (chunked) instead of `body`

  // `value` pretty-printed (2 spaces) with a final newline.
  static Response Json(int status, const nlohmann::json& value);
};

// An answer other than success, thrown by handlers: the HTTP status beside the stable code,
// and headers the answer carries (Retry-After, WWW-Authenticate, ...).
class HttpError : public Error {
 public:
  HttpError(int status, std::string code, const std::string& message);
  int status() const { return status_; }
  std::vector<std::pair<std::string, std::string>> headers;

 private:
  int status_;
};

template <typename... Args>
[[noreturn]] void Refuse(int status, std::string code, fmt::format_string<Args...> format,
                         Args&&... args) {
  throw HttpError(status, std::move(code), fmt::format(format, std::forward<Args>(args)...));
}

// The {error, code} answer of `e`: an HttpError's status and headers; 400 for what a request got
// wrong (usage, config, input kinds), 409 for a lost race (kConflict), else 500.
Response ErrorResponse(const Error& e);

using Handler = std::function<Response(const Request&)>;

struct RouteOptions {
  // Needs no token and does no I/O: answered on the server's event loop, never queued behind
  // other handlers (/api/health).
  bool open = false;
};

// Method and path pattern -> handler. A pattern is '/'-separated: literal segments, {id} (one
// or more digits) and {name} (one or more letters, digits or '_'). Add everything before the
// server starts; Find is then safe from any thread.
class Router {
 public:
  struct Route {
    Method method;
    std::vector<std::string> segments;
    Handler handler;
    RouteOptions options;
  };
  struct Match {
    const Route* route;
    std::vector<std::string> captures;
  };

  void Add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});
  // The route of `method` whose pattern matches `path`, with its captures; nullopt when none.
  std::optional<Match> Find(Method method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace sluice::server
