#include "server/http.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "server/admission.h"
#include "server/api.h"
#include "server/tokens.h"

namespace sluice::server {

using nlohmann::json;

namespace {

// JSON bodies nest no deeper than this: a run's parameters are flat, and nothing recursive
// (parse, dump, destruction) ever sees more.
constexpr int kMaxJsonDepth = 64;
// How long a stopping server waits for open connections (a slow client may hold one).
constexpr int64_t kDrainMs = 10'000;
// Connections the kernel holds until they are accepted (cpp-httplib listens with 5: a burst of
// connections then waits a second for a SYN to be sent again).
constexpr int kListenBacklog = 1024;
// A token's last use is written at most this often.
constexpr int64_t kTouchEveryMs = 60'000;

// An answer other than success, thrown by handlers: the HTTP status beside the stable code.
class HttpError : public Error {
 public:
  HttpError(int status, std::string code, const std::string& message)
      : Error(status >= 500 ? ErrorKind::kIo : ErrorKind::kInput, std::move(code), message),
        status_(status) {}
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

void Send(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

// What a request got wrong is a 400; lookups answer 404 and state conflicts 409 themselves.
int StatusFor(const Error& e) {
  if (auto* http = dynamic_cast<const HttpError*>(&e)) return http->status();
  switch (e.kind()) {
    case ErrorKind::kUsage:
    case ErrorKind::kConfig:
    case ErrorKind::kInput:
      return 400;
    default:
      return 500;
  }
}

void SendError(httplib::Response& res, const Error& e) {
  Send(res, StatusFor(e), ErrorJson(e));
  if (auto* http = dynamic_cast<const HttpError*>(&e)) {
    for (const auto& [name, value] : http->headers) res.set_header(name, value);
  }
  res.set_header("X-Sluice-Error", "1");  // answered: the error handler leaves it alone
}

// A whole number from a query parameter, or a refusal naming it.
int64_t Number(const httplib::Request& req, const std::string& name, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  std::string text = req.get_param_value(name);
  if (!text.empty() && text.size() <= 18 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoll(text);
  }
  Refuse(400, "api.bad_parameter", "query parameter {}='{}' must be a whole number", name,
         text.substr(0, 40));
}

int64_t IdOf(const httplib::Request& req) {
  std::string text = req.matches[1];
  if (text.size() > 18) Refuse(404, "api.not_found", "no run {}", text.substr(0, 40));
  return std::stoll(text);
}

// The Content-Length header's value (0 when absent; UINT64_MAX when it is not a number).
uint64_t ContentLength(const httplib::Request& req) {
  std::string text = req.get_header_value("Content-Length");
  if (text.empty()) return 0;
  if (text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return UINT64_MAX;
  }
  return std::stoull(text);
}

bool HasBody(const httplib::Request& req) {
  return ContentLength(req) > 0 ||
         ToLower(req.get_header_value("Transfer-Encoding")).find("chunked") != std::string::npos;
}

// A POST body as a JSON object ({} when there is none). Everything that needs no bytes is
// checked first (Content-Type, Content-Length), then at most `max_body` bytes are read, then
// the nesting is counted before the text is parsed.
json ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_body) {
  if (!HasBody(req)) return json::object();
  std::string type = ToLower(req.get_header_value("Content-Type"));
  if (Trim(type.substr(0, type.find(';'))) != "application/json") {
    Refuse(415, "api.content_type",
           "a request body must be JSON sent with Content-Type: application/json, not '{}' "
           "(curl: -H 'Content-Type: application/json')",
           type.substr(0, 80));
  }
  auto too_large = [&] {
    HttpError e(
        413, "api.body_too_large",
        fmt::format("the request body is over {} bytes (serve max_body in sluice.yaml)", max_body));
    e.headers.emplace_back("Connection", "close");
    throw e;
  };
  if (ContentLength(req) > static_cast<uint64_t>(max_body)) too_large();
  std::string body;
  bool over = false;
  reader([&](const char* data, size_t size) {
    over = body.size() + size > static_cast<size_t>(max_body);
    if (!over) body.append(data, size);
    return !over;
  });
  if (over) too_large();
  if (JsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    Refuse(400, "api.too_deep", "the request body is nested deeper than {} levels", kMaxJsonDepth);
  }
  json v = json::parse(body, nullptr, false);
  if (v.is_discarded() || !v.is_object()) {
    Refuse(400, "api.bad_body",
           "the body must be a JSON object, e.g. {{\"params\": {{\"day\": \"2026-11-22\"}}}}");
  }
  return v;
}

// One thread per connection, at most `limit` at once; later connections wait in accept order.
// A slow client holds its own thread only, so /api/health finds one while fewer than `limit`
// connections are open (cpp-httplib's fixed pool let 32 slow clients take every thread).
class ConnectionThreads : public std::enable_shared_from_this<ConnectionThreads> {
 public:
  explicit ConnectionThreads(size_t limit) : limit_(limit) {}

  void Start(std::function<void()> connection) {
    std::lock_guard lock(mu_);
    if (running_ >= limit_) {
      waiting_.push_back(std::move(connection));
      return;
    }
    try {
      std::thread([self = shared_from_this(), connection]() mutable {
        self->Serve(std::move(connection));
      }).detach();
      ++running_;
    } catch (const std::system_error&) {
      // No thread to be had now: the connection waits until a running thread, or the thread of
      // a later connection, takes it.
      waiting_.push_back(std::move(connection));
    }
  }

  // Waits until every connection has ended or `ms` passed; true when all have ended.
  bool Drain(int64_t ms) {
    std::unique_lock lock(mu_);
    return idle_.wait_for(lock, std::chrono::milliseconds(ms),
                          [&] { return running_ == 0 && waiting_.empty(); });
  }

 private:
  void Serve(std::function<void()> connection) {
    while (true) {
      connection();
      std::lock_guard lock(mu_);
      if (waiting_.empty()) {
        --running_;
        idle_.notify_all();
        return;
      }
      connection = std::move(waiting_.front());
      waiting_.pop_front();
    }
  }

  std::mutex mu_;
  std::condition_variable idle_;
  const size_t limit_;
  size_t running_ = 0;                         // guarded by mu_
  std::deque<std::function<void()>> waiting_;  // guarded by mu_
};

// cpp-httplib's side of ConnectionThreads (it owns and deletes its task queue).
class ConnectionQueue : public httplib::TaskQueue {
 public:
  explicit ConnectionQueue(std::shared_ptr<ConnectionThreads> threads)
      : threads_(std::move(threads)) {}
  void enqueue(std::function<void()> fn) override { threads_->Start(std::move(fn)); }
  void shutdown() override { threads_->Drain(kDrainMs); }

 private:
  std::shared_ptr<ConnectionThreads> threads_;
};

}  // namespace

struct HttpServer::Impl {
  orchestrator::Service& service;
  httplib::Server http;
  std::string listen_host;
  std::shared_ptr<ConnectionThreads> threads;
  int listening_socket = -1;
  std::atomic<bool> stopping{false};  // ends followed logs
  std::atomic<int> followers{0};
  RateLimit runs_rate;

  // Holds one of serve.max_followers while a followed log streams.
  struct FollowerSlot {
    std::atomic<int>& count;
    ~FollowerSlot() { --count; }
  };

  explicit Impl(orchestrator::Service& s) : service(s) {
    // Every handler answers JSON errors instead of dropping the connection.
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          try {
            std::rethrow_exception(ep);
          } catch (const Error& e) {
            SendError(res, e);
          } catch (const std::exception& e) {
            SendError(res, Error(ErrorKind::kInternal, "internal", e.what()));
          }
        });
    // Host, origin and token, before any handler reads a body.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      try {
        Admit(req);
      } catch (const Error& e) {
        SendError(res, e);
        if (HasBody(req)) res.set_header("Connection", "close");  // its body stays unread
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Get("/api/health", [this](const httplib::Request&, httplib::Response& res) {
      bool ready = service.ready();
      Send(res, ready ? 200 : 503,
           {{"status", ready ? "ok" : "starting"},
            {"project", service.definitions()->project.name}});
    });
    http.Get("/api/workflows", [this](const httplib::Request&, httplib::Response& res) {
      json out = json::array();
      for (const auto& [name, wf] : service.definitions()->workflows) out.push_back(Workflow(wf));
      Send(res, 200, out);
    });
    http.Get(R"(/api/workflows/([A-Za-z0-9_]+))", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
      auto defs = service.definitions();
      auto it = defs->workflows.find(req.matches[1]);
      if (it == defs->workflows.end()) {
        Refuse(404, "api.not_found", "no workflow '{}'", req.matches[1].str());
      }
      json out = Workflow(it->second);
      out["runs"] = json::array();
      for (const auto& r :
           service.metastore().ListRuns({.kind = "workflow", .name = it->first, .limit = 20})) {
        out["runs"].push_back(RunJson(r));
      }
      Send(res, 200, out);
    });
    http.Post(R"(/api/workflows/([A-Za-z0-9_]+)/runs)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
                auto defs = service.definitions();
                json body = ReadBody(req, reader, defs->project.serve.max_body);
                json params = body.contains("params") ? body["params"] : json::object();
                if (!params.is_object()) {
                  Refuse(400, "api.bad_body", "params must be an object of name: value");
                }
                for (auto& [k, v] : params.items()) {
                  if (orchestrator::IsReservedParam(k)) {
                    Refuse(400, "api.reserved_param",
                           "parameter '{}' is set by triggers, not by callers", k);
                  }
                  if (!v.is_string()) v = v.dump();
                }
                if (!defs->workflows.count(req.matches[1])) {
                  Refuse(404, "api.not_found", "no workflow '{}' (GET /api/workflows lists them)",
                         req.matches[1].str());
                }
                TakeRun(defs->project.serve.runs_per_minute);
                int64_t id = service.Trigger(req.matches[1], params, "api");
                Send(res, 201, RunJson(*service.metastore().GetRun(id)));
              });
    http.Get("/api/runs", [this](const httplib::Request& req, httplib::Response& res) {
      meta::RunFilter f;
      if (req.has_param("status")) f.statuses = {req.get_param_value("status")};
      f.kind = req.get_param_value("kind");
      f.name = req.get_param_value("name");
      f.trigger = req.get_param_value("trigger");
      f.limit = static_cast<size_t>(std::clamp<int64_t>(Number(req, "limit", 50), 1, 100000));
      f.before_id = Number(req, "before", 0);
      json out = json::array();
      for (const auto& r : service.metastore().ListRuns(f)) out.push_back(RunJson(r));
      Send(res, 200, out);
    });
    http.Get(R"(/api/runs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto detail = RunDetailJson(service.metastore(), IdOf(req));
      if (!detail) Refuse(404, "api.not_found", "no run {}", IdOf(req));
      Send(res, 200, *detail);
    });
    http.Get(R"(/api/runs/(\d+)/logs)",
             [this](const httplib::Request& req, httplib::Response& res) { Logs(req, res); });
    http.Post(R"(/api/runs/(\d+)/cancel)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
                ReadBody(req, reader, service.definitions()->project.serve.max_body);
                auto run = service.metastore().RequestCancel(IdOf(req));
                if (!run) Refuse(404, "api.not_found", "no run {}", IdOf(req));
                Send(res, 202, RunJson(*run));
              });
    http.Post(R"(/api/runs/(\d+)/retry)", [this](const httplib::Request& req,
                                                 httplib::Response& res,
                                                 const httplib::ContentReader& reader) {
      auto defs = service.definitions();
      ReadBody(req, reader, defs->project.serve.max_body);
      auto run = service.metastore().GetRun(IdOf(req));
      if (!run) Refuse(404, "api.not_found", "no run {}", IdOf(req));
      if (run->status != "failed" && run->status != "cancelled") {
        Refuse(409, "api.not_retryable",
               "run {} is {}; only failed or cancelled runs can be retried", run->id, run->status);
      }
      TakeRun(defs->project.serve.runs_per_minute);
      service.Retry(run->id);
      Send(res, 202, RunJson(*service.metastore().GetRun(run->id)));
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.MetricsText(), "text/plain; version=0.0.4");
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
      if (res.has_header("X-Sluice-Error")) return httplib::Server::HandlerResponse::Unhandled;
      std::string what = fmt::format("{} {}", req.method, req.path.substr(0, 200));
      if (res.status == 404) {
        SendError(res,
                  HttpError(404, "api.not_found", what + ": no such endpoint (see docs/api.md)"));
      } else if (res.status == 413) {
        SendError(res, HttpError(413, "api.body_too_large",
                                 what + ": the request body is over serve max_body"));
      } else {
        SendError(res, HttpError(res.status, "api.bad_request",
                                 fmt::format("{}: the request could not be read (HTTP {})", what,
                                             res.status)));
      }
      return httplib::Server::HandlerResponse::Handled;
    }));
  }

  // Refuses a request whose Host is not this server's, that comes from another origin, or
  // that lacks a valid token where tokens are required (everything but /api/health).
  void Admit(const httplib::Request& req) {
    auto defs = service.definitions();
    const auto& serve = defs->project.serve;
    // Two of these leave it to each reader which one counts (a proxy may have checked the other).
    for (const char* once : {"Host", "Content-Length", "Authorization", "Origin"}) {
      if (req.get_header_value_count(once) > 1) {
        Refuse(400, "api.duplicate_header", "the request has more than one {} header", once);
      }
    }
    std::string host = req.get_header_value("Host");
    if (!HostAllowed(host, listen_host, serve.allowed_hosts)) {
      Refuse(403, "api.host",
             "Host '{}' is not an address of this server; a proxy or another node that uses "
             "another name needs it in sluice.yaml: serve: {{ allowed_hosts: [NAME] }}",
             host.substr(0, 100));
    }
    std::string origin = req.get_header_value("Origin");
    std::string site = req.get_header_value("Sec-Fetch-Site");
    if (!OriginAllowed(origin, site, host, serve.allowed_hosts)) {
      Refuse(403, "api.cross_origin",
             "cross-origin request refused (Origin '{}', Sec-Fetch-Site '{}'): the API answers "
             "its own origin and the hosts of serve allowed_hosts",
             origin.substr(0, 100), site.substr(0, 40));
    }
    if (req.path == "/api/health") return;
    // A token that is sent is checked even where none is needed: a wrong or revoked one must
    // not seem to work on loopback and then fail behind a proxy.
    if (serve.auth == project::ServeAuth::kRequired || !IsLoopback(listen_host) ||
        req.has_header("Authorization")) {
      Authenticate(req);
    }
  }

  void Authenticate(const httplib::Request& req) {
    auto refuse = [](const std::string& message) {
      HttpError e(401, "api.unauthorized", message);
      e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
      throw e;
    };
    std::string header = req.get_header_value("Authorization");
    if (header.size() <= 7 || ToLower(header.substr(0, 7)) != "bearer ") {
      refuse(
          "this API needs Authorization: Bearer TOKEN; create a token on the server with "
          "`sluice token create NAME`");
    }
    auto& m = service.metastore();
    auto tokens = m.Tokens();
    auto name = MatchToken(tokens, Trim(header.substr(7)));
    if (!name) {
      refuse(
          "the bearer token is not valid (mistyped or revoked); `sluice token list` shows "
          "the server's tokens");
    }
    int64_t now = NowMs();
    for (const auto& t : tokens) {
      if (t.name == *name && now - t.last_used_ms >= kTouchEveryMs) m.TouchToken(t.name, now);
    }
  }

  void TakeRun(int per_minute) {
    if (int64_t wait = runs_rate.Take(per_minute, NowMs())) {
      HttpError e(429, "api.rate_limited",
                  fmt::format("more than {} runs a minute were asked for (serve "
                              "runs_per_minute); try again in {} s",
                              per_minute, wait));
      e.headers.emplace_back("Retry-After", std::to_string(wait));
      throw e;
    }
  }

  static json Materialize(const project::Workflow& wf) {
    json out = json::array();
    for (const auto& t : wf.materialize) out.push_back(t.str());
    return out;
  }

  static json Workflow(const project::Workflow& wf) {
    json triggers = json::array();
    for (const auto& t : wf.triggers) {
      json j = {{"kind", t.kind}, {"target", t.target}};
      if (t.kind == "schedule") {
        j["timezone"] = t.timezone;
        j["catch_up"] = t.catch_up;
      }
      if (t.kind == "on_arrival") j["batch_window_ms"] = t.batch_window_ms;
      if (t.kind == "after") j["on"] = t.on;
      triggers.push_back(j);
    }
    json params = json::object();
    for (const auto& [k, v] : wf.parameters) params[k] = Redact(v);
    return {{"name", wf.name},
            {"description", wf.description},
            {"file", wf.file},
            {"triggers", triggers},
            {"steps", wf.steps.size()},
            {"parameters", params},
            {"materialize", Materialize(wf)}};
  }

  void Logs(const httplib::Request& req, httplib::Response& res) {
    int64_t id = IdOf(req);
    auto& m = service.metastore();
    if (!m.GetRun(id)) Refuse(404, "api.not_found", "no run {}", id);
    int64_t after = Number(req, "after", 0);
    bool follow = req.get_param_value("follow") == "1" || req.get_param_value("follow") == "true";
    if (!follow) {
      json out = json::array();
      for (const auto& l : m.Logs(id, after, 100000)) out.push_back(LogJson(l));
      return Send(res, 200, out);
    }
    int limit = service.definitions()->project.serve.max_followers;
    if (followers.fetch_add(1) >= limit) {
      --followers;
      HttpError e(503, "api.busy",
                  fmt::format("{} log streams are open already (serve max_followers); read "
                              "without follow, or follow again later",
                              limit));
      e.headers.emplace_back("Retry-After", "5");
      throw e;
    }
    auto slot = std::make_shared<FollowerSlot>(followers);
    // Follow: one JSON object per line as lines are written, until the run ends.
    res.set_chunked_content_provider(
        "application/x-ndjson", [this, id, after, slot](size_t, httplib::DataSink& sink) mutable {
          auto& m = service.metastore();
          for (int i = 0; i < 6000 && sink.is_writable() && !stopping; ++i) {  // 10 min at most
            auto run = m.GetRun(id);
            bool ended = !run || meta::IsTerminal(run->status);
            for (const auto& l : m.Logs(id, after, 1000)) {
              std::string line = LogJson(l).dump() + "\n";
              if (!sink.write(line.data(), line.size())) return false;
              after = l.id;
            }
            if (ended) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          sink.done();
          return true;
        });
  }
};

HttpServer::HttpServer(orchestrator::Service& service) : impl_(std::make_unique<Impl>(service)) {}

HttpServer::~HttpServer() {
  // A client still connected after the drain deadline of Serve (one that keeps dripping bytes)
  // holds a thread that uses the server: leave the server to the exiting process rather than
  // free it under that thread.
  if (impl_->threads && !impl_->threads->Drain(0)) (void)impl_.release();
}

int HttpServer::Bind(const std::string& host, int port) {
  const auto& serve = impl_->service.definitions()->project.serve;
  impl_->listen_host = host;
  impl_->threads = std::make_shared<ConnectionThreads>(serve.max_connections);
  impl_->http.new_task_queue = [threads = impl_->threads] { return new ConnectionQueue(threads); };
  impl_->http.set_read_timeout(5, 0);
  impl_->http.set_write_timeout(5, 0);
  impl_->http.set_keep_alive_timeout(5);
  impl_->http.set_keep_alive_max_count(100);
  // Bodies of routes that read them whole (anything but the POSTs, which stream into ReadBody).
  impl_->http.set_payload_max_length(serve.max_body);
  // cpp-httplib applies socket options to the listening socket only (not to accepted ones).
  // Not cpp-httplib's default options: its SO_REUSEPORT lets a second server (of any project)
  // bind the same port and take half the calls. SO_REUSEADDR only lets a restart bind at once.
  impl_->http.set_socket_options([impl = impl_.get()](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    impl->listening_socket = sock;
  });
  int bound = port == 0 ? impl_->http.bind_to_any_port(host)
                        : (impl_->http.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    Fail(ErrorKind::kUsage, "cannot listen on {}:{} (in use, or not an address of this machine)",
         host, port);
  }
  // Listening again on a listening socket only changes its backlog (Linux).
  if (impl_->listening_socket >= 0 && ::listen(impl_->listening_socket, kListenBacklog) != 0) {
    Fail(ErrorKind::kIo, "cannot listen on {}:{} with a backlog of {}: {}", host, bound,
         kListenBacklog, std::strerror(errno));
  }
  return bound;
}

bool HttpServer::RequiresTokens() const {
  return impl_->service.definitions()->project.serve.auth == project::ServeAuth::kRequired ||
         !IsLoopback(impl_->listen_host);
}

void HttpServer::Serve() { impl_->http.listen_after_bind(); }

void HttpServer::Stop() {
  impl_->stopping = true;
  impl_->http.stop();
}

}  // namespace sluice::server
