#pragma once
// The HTTP API of `sluice serve` (docs/api.md): JSON over the orchestrator service and the
// metastore, plus Prometheus /metrics. Loopback by default. Every request is admitted first
// (server/admission.h: Host, origin, bearer token where required); bodies are JSON objects of
// at most serve.max_body bytes and 64 levels; each connection has its own thread, at most
// serve.max_connections at once, and followed logs at most serve.max_followers.
#include <memory>
#include <string>

#include "orchestrator/service.h"

namespace sluice::server {

class HttpServer {
 public:
  explicit HttpServer(orchestrator::Service& service);
  ~HttpServer();
  // Binds `host:port` (port 0: any free port); throws sluice::Error(kUsage) when it cannot.
  int Bind(const std::string& host, int port);
  // Whether calls need a bearer token: serve.auth is required, or it listens beyond loopback.
  bool RequiresTokens() const;
  // Serves until Stop (call from another thread), then waits up to 10 s for open connections.
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
