#pragma once
// The HTTP API of `sluice serve` (docs/api.md): JSON over the orchestrator service and the
// metastore, plus Prometheus /metrics. Loopback by default.
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
  // Serves until Stop (call from another thread).
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
