#include "server/http.h"

#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "api/errors.h"
#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "server/admission.h"
#include "server/router.h"
#include "server/routes.h"
#include "server/tokens.h"

namespace sluice::server {

using nlohmann::json;

namespace {

// JSON bodies nest no deeper than this: a run's parameters are flat, and nothing recursive
// (parse, dump, destruction) ever sees more.
constexpr int kMaxJsonDepth = 64;
// How long a stopping server waits for answers still being written.
constexpr int64_t kDrainMs = 10'000;
// Connections the kernel holds until they are accepted.
constexpr int kListenBacklog = 1024;
// A token's last use is written at most this often.
constexpr int64_t kTouchEveryMs = 60'000;
// A connection with no traffic for this long is closed (libmicrohttpd's idle timeout).
constexpr unsigned kIdleTimeoutS = 5;
// A request head must arrive within this of its connection opening (or of the previous answer
// on a kept-alive connection), and a body within this of its head: the idle timeout restarts
// with each byte, so a client dripping bytes is bounded only by this.
constexpr int64_t kRequestDeadlineMs = 10'000;
// Memory of one connection: its request head and read buffer live in it, so a head much over
// half of it is refused (431).
constexpr size_t kConnectionMemory = 32 * 1024;
// Threads that run handlers (admission with its token lookup, metastore reads, triggers).
constexpr int kHandlerThreads = 4;
// How often streams are polled and request deadlines checked.
constexpr int64_t kTickMs = 100;
// A stream reads no further ahead of a client that does not keep up.
constexpr size_t kStreamAhead = 64 * 1024;

// A few threads that run posted jobs in order.
class HandlerThreads {
 public:
  void Start(int count) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { Run(); });
  }
  // False once Stop began: the job will not run.
  bool Post(std::function<void()> job) {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
    wake_.notify_one();
    return true;
  }
  // Runs every job posted before, then joins the threads.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Run() {
    while (true) {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

// One open connection, for the request deadline.
struct ConnectionState {
  int fd;
  bool waiting;      // for a request's head or body; guarded by Impl::connections_mu
  int64_t since_ms;  // since when; guarded by Impl::connections_mu
};

// One request, from its complete head to its answer (libmicrohttpd's per-request context).
// Touched by the event loop, and by one handler thread at a time while its connection is
// suspended (the loop leaves a suspended connection alone).
struct Exchange {
  enum class Phase {
    kAdmitting,    // a handler thread admits it (or the loop answered it)
    kBodyAllowed,  // admitted; its body may be read
    kReadingBody,
    kHandling,  // its handler runs
  };
  Phase phase = Phase::kAdmitting;
  std::string method;  // as sent
  Request request;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, as sent
  std::optional<Router::Match> match;
  std::string body;
  int64_t max_body = 0;
  std::optional<Response> answer;  // set before the connection is resumed to send it
  // A query parameter whose name or decoded value holds a NUL (`%00`), which would cut it short.
  std::optional<std::string> nul_param;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
  size_t Count(std::string_view name) const {
    return std::count_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return h.first == name; });
  }
  // The Content-Length (0 when absent; UINT64_MAX when it is not a number).
  uint64_t ContentLength() const {
    std::string text = Header("content-length");
    if (text.empty()) return 0;
    if (text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return UINT64_MAX;
    }
    return std::stoull(text);
  }
  bool HasBody() const {
    return ContentLength() > 0 ||
           ToLower(Header("transfer-encoding")).find("chunked") != std::string::npos;
  }
};

// A streamed answer between the ticker thread, which fills `pending` from the Stream, and the
// event loop, which sends it and suspends the connection while there is nothing to send.
struct StreamState {
  std::shared_ptr<Stream> stream;
  MHD_Connection* connection;
  std::mutex mu;
  std::string pending;     // guarded by mu
  bool ended = false;      // the stream said so, or the server stops; guarded by mu
  bool suspended = false;  // waits for `pending` or `ended`; guarded by mu
  bool gone = false;       // its connection is done with it; guarded by mu
};

// The body of a POST as a JSON object: the nesting is counted before the text is parsed.
json ParseBody(const std::string& body) {
  if (body.empty()) return json::object();
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

HttpError TooLarge(int64_t max_body) {
  HttpError e(
      413, "api.body_too_large",
      fmt::format("the request body is over {} bytes (serve max_body in sluice.yaml)", max_body));
  e.headers.emplace_back("Connection", "close");
  return e;
}

// What `fn` answers, or the answer of the error it throws.
Response Answer(const std::function<Response()>& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    return ErrorResponse(e);
  } catch (const std::exception& e) {
    return ErrorResponse(Error(ErrorKind::kInternal, "internal", e.what()));
  }
}

}  // namespace

struct HttpServer::Impl {
  orchestrator::Service& service;
  ApiContext context;
  Router router;
  std::string listen_host;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;
  HandlerThreads handlers;
  std::thread ticker;

  std::mutex connections_mu;
  std::unordered_set<ConnectionState*> connections;  // guarded by connections_mu

  std::mutex streams_mu;
  std::list<std::shared_ptr<StreamState>> streams;  // guarded by streams_mu
  bool streams_closed = false;                      // guarded by streams_mu

  std::atomic<int> answers_in_flight{0};  // answers decided and not yet sent
  std::atomic<bool> stopping{false};
  std::mutex run_mu;
  std::condition_variable run_cv;
  bool started = false;  // guarded by run_mu
  bool stopped = false;  // guarded by run_mu

  explicit Impl(orchestrator::Service& s) : service(s), context{s} {
    AddHealthRoutes(router, context);
    AddWorkflowRoutes(router, context);
    AddRunRoutes(router, context);
    AddLogRoutes(router, context);
    AddMetricsRoutes(router, context);
  }

  // ---- Admission -------------------------------------------------------------------------

  // Refuses a request whose Host is not this server's, that comes from another origin, or that
  // repeats a header only one of which may count. Pure: no I/O.
  void AdmitHeaders(const Exchange& ex) {
    auto defs = service.definitions();
    const auto& serve = defs->project.serve;
    // Two of these leave it to each reader which one counts (a proxy may have checked the other).
    for (const char* once : {"Host", "Content-Length", "Authorization", "Origin"}) {
      if (ex.Count(ToLower(once)) > 1) {
        Refuse(400, "api.duplicate_header", "the request has more than one {} header", once);
      }
    }
    std::string host = ex.Header("host");
    if (!HostAllowed(host, listen_host, serve.allowed_hosts)) {
      Refuse(403, "api.host",
             "Host '{}' is not an address of this server; a proxy or another node that uses "
             "another name needs it in sluice.yaml: serve: {{ allowed_hosts: [NAME] }}",
             host.substr(0, 100));
    }
    std::string origin = ex.Header("origin");
    std::string site = ex.Header("sec-fetch-site");
    if (!OriginAllowed(origin, site, host, serve.allowed_hosts)) {
      Refuse(403, "api.cross_origin",
             "cross-origin request refused (Origin '{}', Sec-Fetch-Site '{}'): the API answers "
             "its own origin and the hosts of serve allowed_hosts",
             origin.substr(0, 100), site.substr(0, 40));
    }
  }

  // AdmitHeaders, then the bearer token where one is required or sent (all but open routes).
  void Admit(const Exchange& ex) {
    AdmitHeaders(ex);
    if (ex.match && ex.match->route->options.open) return;
    const auto& serve = service.definitions()->project.serve;
    // A token that is sent is checked even where none is needed: a wrong or revoked one must
    // not seem to work on loopback and then fail behind a proxy.
    if (serve.auth == project::ServeAuth::kRequired || !IsLoopback(listen_host) ||
        ex.Count("authorization") > 0) {
      Authenticate(ex.Header("authorization"));
    }
  }

  void Authenticate(const std::string& header) {
    auto refuse = [](const std::string& message) {
      HttpError e(401, "api.unauthorized", message);
      e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
      throw e;
    };
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

  // On a handler thread: admits the request, then either allows its body (answer unset) or
  // answers it.
  std::optional<Response> AdmitAndStart(Exchange& ex) {
    std::optional<Response> answer;
    bool body_unread = ex.HasBody();
    answer = Answer([&]() -> Response {
      Admit(ex);
      if (!ex.match) {
        Refuse(404, "api.not_found", "{} {}: no such endpoint (see docs/api.md)", ex.method,
               ex.request.path.substr(0, 200));
      }
      if (!body_unread) return Handle(ex);
      if (ex.request.method == Method::kPost) {
        std::string type = ToLower(ex.Header("content-type"));
        if (Trim(type.substr(0, type.find(';'))) != "application/json") {
          Refuse(415, "api.content_type",
                 "a request body must be JSON sent with Content-Type: application/json, not "
                 "'{}' (curl: -H 'Content-Type: application/json')",
                 type.substr(0, 80));
        }
      }
      ex.max_body = service.definitions()->project.serve.max_body;
      if (ex.ContentLength() > static_cast<uint64_t>(ex.max_body)) throw TooLarge(ex.max_body);
      ex.phase = Exchange::Phase::kBodyAllowed;
      return {};
    });
    if (ex.phase == Exchange::Phase::kBodyAllowed) return std::nullopt;
    // Its body stays unread: the connection cannot carry another request.
    if (body_unread) answer->headers.emplace_back("Connection", "close");
    return answer;
  }

  // Runs the route's handler (a POST's body parsed first); throws what it refuses.
  Response Handle(Exchange& ex) {
    if (ex.nul_param) {
      Refuse(400, "api.bad_parameter", "query parameter {} holds a NUL character (%00)",
             ex.nul_param->substr(0, 40));
    }
    if (ex.request.method == Method::kPost) ex.request.body = ParseBody(ex.body);
    ex.request.captures = ex.match->captures;
    return ex.match->route->handler(ex.request);
  }

  // ---- The event loop's side ---------------------------------------------------------------

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char* /*version*/, const char* upload_data,
                              size_t* upload_data_size, void** con_cls) {
    return static_cast<Impl*>(cls)->Request(connection, url, method, upload_data, upload_data_size,
                                            con_cls)
               ? MHD_YES
               : MHD_NO;
  }

  // libmicrohttpd calls this when a head is complete, again after each resume, with each piece
  // of a body, and once the body is complete. False closes the connection.
  bool Request(MHD_Connection* connection, const char* url, const char* method,
               const char* upload_data, size_t* upload_data_size, void** con_cls) {
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (!ex) {
      ex = new Exchange;
      *con_cls = ex;
      SetWaiting(connection, false);
      Begin(connection, ex, url, method);
    } else if (*upload_data_size > 0) {
      if (ex->phase != Exchange::Phase::kReadingBody) return false;
      if (ex->body.size() + *upload_data_size > static_cast<size_t>(ex->max_body)) {
        RefuseMidBody(connection, ex->max_body);
        return false;
      }
      ex->body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return true;
    } else if (ex->phase == Exchange::Phase::kBodyAllowed) {
      ex->phase = Exchange::Phase::kReadingBody;
      SetWaiting(connection, true);
      return true;
    } else if (ex->phase == Exchange::Phase::kReadingBody) {
      SetWaiting(connection, false);
      ex->phase = Exchange::Phase::kHandling;
      Dispatch(connection, ex, [this, ex] { SetAnswer(ex, Answer([&] { return Handle(*ex); })); });
    }
    if (!ex->answer) return true;
    return Send(connection, ex);
  }

  // A complete head: copies what handlers need, then answers an open route here and now, or
  // hands the request to a handler thread.
  void Begin(MHD_Connection* connection, Exchange* ex, const char* url, const char* method) {
    ex->method = method;
    ex->request.path = url;
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) {
          static_cast<Exchange*>(cls)->headers.emplace_back(ToLower(key), value ? value : "");
          return MHD_YES;
        },
        ex);
    // With their sizes: a decoded %00 would otherwise end the C string early (`limit=1%00x`
    // read as 1); such a parameter is refused in Handle.
    MHD_get_connection_values_n(
        connection, MHD_GET_ARGUMENT_KIND,
        [](void* cls, MHD_ValueKind, const char* key, size_t key_size, const char* value,
           size_t value_size) {
          auto* e = static_cast<Exchange*>(cls);
          std::string k(key, key_size), v = value ? std::string(value, value_size) : "";
          if (!e->nul_param &&
              (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos)) {
            e->nul_param = k.substr(0, k.find('\0'));
          }
          e->request.query.emplace(std::move(k), std::move(v));
          return MHD_YES;
        },
        ex);
    std::optional<Method> m;
    if (ex->method == "GET" || ex->method == "HEAD") m = Method::kGet;
    if (ex->method == "POST") m = Method::kPost;
    if (m) {
      ex->request.method = *m;
      ex->match = router.Find(*m, ex->request.path);
    }
    if (stopping) {
      SetAnswer(ex, ErrorResponse(HttpError(503, "api.stopping", "the server is stopping")));
    } else if (ex->match && ex->match->route->options.open) {
      SetAnswer(ex, Answer([&] {
                  AdmitHeaders(*ex);
                  return Handle(*ex);
                }));
    } else {
      Dispatch(connection, ex, [this, ex] {
        if (auto answer = AdmitAndStart(*ex)) SetAnswer(ex, std::move(*answer));
      });
    }
  }

  void SetAnswer(Exchange* ex, Response answer) {
    ex->answer = std::move(answer);
    ++answers_in_flight;
  }

  // Suspends the connection and runs `job` on a handler thread, which resumes it after.
  void Dispatch(MHD_Connection* connection, Exchange* ex, std::function<void()> job) {
    MHD_suspend_connection(connection);
    bool posted = handlers.Post([connection, job = std::move(job)] {
      job();
      MHD_resume_connection(connection);
    });
    if (!posted) {
      SetAnswer(ex, ErrorResponse(HttpError(503, "api.stopping", "the server is stopping")));
      MHD_resume_connection(connection);
    }
  }

  // Hands the exchange's answer to libmicrohttpd.
  bool Send(MHD_Connection* connection, Exchange* ex) {
    Response& r = *ex->answer;
    MHD_Response* response = nullptr;
    if (r.stream) {
      auto state = std::make_shared<StreamState>();
      state->stream = std::move(r.stream);
      state->connection = connection;
      {
        std::lock_guard lock(streams_mu);
        state->ended = streams_closed;
        streams.push_back(state);
      }
      response =
          MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &ReadStream,
                                            new std::shared_ptr<StreamState>(state), &FreeStream);
    } else {
      response =
          MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
    }
    if (!response) return false;
    MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
    for (const auto& [name, value] : r.headers) {
      MHD_add_response_header(response, name.c_str(), value.c_str());
    }
    MHD_Result queued = MHD_queue_response(connection, r.status, response);
    MHD_destroy_response(response);
    return queued == MHD_YES;
  }

  // A chunked body outgrew serve.max_body. libmicrohttpd queues no answer while a body is
  // arriving, so the 413 is written to the socket here and the connection is then closed.
  static void RefuseMidBody(MHD_Connection* connection, int64_t max_body) {
    Response r = ErrorResponse(TooLarge(max_body));
    std::string text = fmt::format(
        "HTTP/1.1 413 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        MHD_get_reason_phrase_for(413), r.content_type, r.body.size(), r.body);
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    // Best effort: the connection closes whether or not the answer fit the socket's buffer.
    if (info) (void)::send(info->connect_fd, text.data(), text.size(), MSG_NOSIGNAL);
  }

  static ssize_t ReadStream(void* cls, uint64_t, char* buf, size_t max) {
    StreamState& s = **static_cast<std::shared_ptr<StreamState>*>(cls);
    std::lock_guard lock(s.mu);
    if (!s.pending.empty()) {
      size_t n = std::min(max, s.pending.size());
      std::memcpy(buf, s.pending.data(), n);
      s.pending.erase(0, n);
      return static_cast<ssize_t>(n);
    }
    if (s.ended) return MHD_CONTENT_READER_END_OF_STREAM;
    // Nothing yet: the connection waits without a thread until the ticker resumes it.
    s.suspended = true;
    MHD_suspend_connection(s.connection);
    return 0;
  }

  static void FreeStream(void* cls) {
    auto* state = static_cast<std::shared_ptr<StreamState>*>(cls);
    {
      std::lock_guard lock((*state)->mu);
      (*state)->gone = true;
    }
    delete state;
  }

  static void OnCompleted(void* cls, MHD_Connection* connection, void** con_cls,
                          MHD_RequestTerminationCode) {
    auto* impl = static_cast<Impl*>(cls);
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (ex && ex->answer) --impl->answers_in_flight;
    delete ex;
    *con_cls = nullptr;
    impl->SetWaiting(connection, true);  // for the next request on this connection
  }

  static void OnConnection(void* cls, MHD_Connection* connection, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
    auto* impl = static_cast<Impl*>(cls);
    std::lock_guard lock(impl->connections_mu);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      auto* state = new ConnectionState{info ? info->connect_fd : -1, true, NowMs()};
      impl->connections.insert(state);
      *socket_context = state;
    } else {
      // libmicrohttpd closes the socket after this returns, so a sweep that holds
      // connections_mu never shuts down a descriptor that another connection reuses.
      auto* state = static_cast<ConnectionState*>(*socket_context);
      impl->connections.erase(state);
      delete state;
      *socket_context = nullptr;
    }
  }

  void SetWaiting(MHD_Connection* connection, bool waiting) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!info || !info->socket_context) return;
    auto* state = static_cast<ConnectionState*>(info->socket_context);
    std::lock_guard lock(connections_mu);
    state->waiting = waiting;
    state->since_ms = NowMs();
  }

  // ---- The ticker: streams and request deadlines -------------------------------------------

  void Tick() {
    int64_t next_sweep = 0;
    while (!stopping) {
      PollStreams();
      if (NowMs() >= next_sweep) {
        SweepDeadlines();
        next_sweep = NowMs() + 500;
      }
      std::unique_lock lock(run_mu);
      run_cv.wait_for(lock, std::chrono::milliseconds(kTickMs), [&] { return stopping.load(); });
    }
  }

  void PollStreams() {
    std::list<std::shared_ptr<StreamState>> live;
    {
      std::lock_guard lock(streams_mu);
      streams.remove_if([](const auto& s) {
        std::lock_guard state_lock(s->mu);
        return s->gone;
      });
      live = streams;
    }
    for (const auto& s : live) {
      {
        std::lock_guard lock(s->mu);
        if (s->ended || s->gone || s->pending.size() >= kStreamAhead) continue;
      }
      std::string more;
      bool ended = false;
      try {
        ended = s->stream->Next(more);
      } catch (const Error& e) {
        more += api::ErrorJson(e).dump() + "\n";  // the stream's last line says why it ended
        ended = true;
      } catch (const std::exception& e) {
        more += api::ErrorJson(Error(ErrorKind::kInternal, "internal", e.what())).dump() + "\n";
        ended = true;
      }
      std::lock_guard lock(s->mu);
      s->pending += more;
      s->ended = s->ended || ended;
      if (s->suspended && (!s->pending.empty() || s->ended) && !s->gone) {
        s->suspended = false;
        MHD_resume_connection(s->connection);
      }
    }
  }

  // Closes connections whose request has not arrived within kRequestDeadlineMs. shutdown()
  // wakes the event loop, which reads the end of the stream and closes the connection itself.
  void SweepDeadlines() {
    int64_t now = NowMs();
    std::lock_guard lock(connections_mu);
    for (ConnectionState* c : connections) {
      if (c->waiting && now - c->since_ms > kRequestDeadlineMs && c->fd >= 0) {
        ::shutdown(c->fd, SHUT_RDWR);
        c->waiting = false;
      }
    }
  }

  void EndStreams() {
    std::lock_guard lock(streams_mu);
    streams_closed = true;
    for (const auto& s : streams) {
      std::lock_guard state_lock(s->mu);
      s->ended = true;
      if (s->suspended && !s->gone) {
        s->suspended = false;
        MHD_resume_connection(s->connection);
      }
    }
  }
};

HttpServer::HttpServer(orchestrator::Service& service) : impl_(std::make_unique<Impl>(service)) {}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

int HttpServer::Bind(const std::string& host, int port) {
  impl_->listen_host = host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0) {
    found = nullptr;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only lets a restart bind at once; never SO_REUSEPORT, which would let a
    // second server (of any project) bind the same port and take half the calls.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, kListenBacklog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  if (found) freeaddrinfo(found);
  if (fd < 0) {
    FailWithCode(ErrorKind::kUsage, "usage.listen",
                 "cannot listen on {}:{} (in use, or not an address of this machine)", host, port);
  }
  sockaddr_storage bound{};
  socklen_t size = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size);
  impl_->listen_fd = fd;
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

bool HttpServer::RequiresTokens() const {
  return impl_->service.definitions()->project.serve.auth == project::ServeAuth::kRequired ||
         !IsLoopback(impl_->listen_host);
}

void HttpServer::Serve() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.run_mu);
    if (impl.stopping || impl.started) return;
    const auto& serve = impl.service.definitions()->project.serve;
    impl.handlers.Start(kHandlerThreads);
    impl.daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, nullptr,
        nullptr, &Impl::OnRequest, &impl, MHD_OPTION_LISTEN_SOCKET, impl.listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(serve.max_connections),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(serve.max_connections_per_client),
        MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeoutS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        kConnectionMemory, MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, &impl,
        MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, &impl, MHD_OPTION_END);
    if (!impl.daemon) {
      impl.handlers.Stop();
      FailWithCode(ErrorKind::kIo, "io.http",
                   "cannot start the HTTP server on {} (libmicrohttpd refused)", impl.listen_host);
    }
    impl.listen_fd = -1;  // the daemon's now
    impl.started = true;
    impl.ticker = std::thread([&impl] { impl.Tick(); });
  }
  std::unique_lock lock(impl.run_mu);
  impl.run_cv.wait(lock, [&] { return impl.stopped; });
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.run_mu);
    if (impl.stopping.exchange(true)) return;
    impl.run_cv.notify_all();
    if (!impl.started) {
      impl.stopped = true;
      return;
    }
  }
  // No new connections; a suspended connection must be resumed before the daemon stops.
  int listening = MHD_quiesce_daemon(impl.daemon);
  if (listening >= 0) ::close(listening);
  impl.EndStreams();
  impl.ticker.join();
  impl.handlers.Stop();
  for (int64_t end = NowMs() + kDrainMs; impl.answers_in_flight > 0 && NowMs() < end;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  MHD_stop_daemon(impl.daemon);
  impl.daemon = nullptr;
  std::lock_guard lock(impl.run_mu);
  impl.stopped = true;
  impl.run_cv.notify_all();
}

}  // namespace sluice::server
