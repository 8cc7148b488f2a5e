#pragma once
// The HTTP API of `sluice serve` (docs/api.md): JSON over the orchestrator service and the
// metastore, plus Prometheus /metrics. Loopback by default.
//
// One event loop (libmicrohttpd, epoll) owns every connection, so an idle or slow connection
// costs a socket and a little memory, never a thread: at most serve.max_connections at once
// (more wait to be accepted), at most serve.max_connections_per_client from one address (more
// are closed as they arrive); a connection idle for 5 s is closed, and so is one whose request
// head has not arrived 10 s after it opened (or after its previous answer), or whose body has
// not arrived 10 s after its head. Every request is admitted first (Host, origin, bearer token
// where required: server/admission.h); handlers (server/routes.h) then run on a few handler
// threads; bodies are JSON objects of at most serve.max_body bytes and 64 levels. Followed logs
// (at most serve.max_followers) wait without a thread.
#include <memory>
#include <string>

#include "orchestrator/service.h"

namespace sluice::server {

class HttpServer {
 public:
  explicit HttpServer(orchestrator::Service& service);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host:port` (port 0: any free port) and listens; returns the port. Throws
  // sluice::Error(kUsage) when it cannot (in use, or not an address of this machine).
  int Bind(const std::string& host, int port);
  // Whether calls need a bearer token: serve.auth is required, or it listens beyond loopback.
  bool RequiresTokens() const;
  // Serves until Stop (call it from another thread); returns at once if Stop came first.
  void Serve();
  // Stops accepting, ends followed logs, lets running handlers finish, waits up to 10 s for
  // answers still being written, then closes every connection and makes Serve return.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
