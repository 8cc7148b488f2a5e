#pragma once
// The HTTP API's routes, registered per resource (docs/api.md). Each Add* function adds the
// routes of one resource to a Router; their handlers run on the server's handler threads (the
// open health route on its event loop) after the request was admitted.
#include <atomic>

#include "orchestrator/service.h"
#include "server/admission.h"
#include "server/router.h"

namespace sluice::server {

// What the handlers of every resource share. Outlives the server's connections.
struct ApiContext {
  orchestrator::Service& service;
  RateLimit runs_rate;            // runs created through the API (trigger, retry)
  std::atomic<int> followers{0};  // followed logs streaming now (serve.max_followers)
};

// GET /api/health: whether the server is ready, and its project.
void AddHealthRoutes(Router& router, ApiContext& context);
// GET /api/workflows, GET /api/workflows/{name}, POST /api/workflows/{name}/runs.
void AddWorkflowRoutes(Router& router, ApiContext& context);
// GET /api/runs, GET /api/runs/{id}, POST /api/runs/{id}/cancel, POST /api/runs/{id}/retry.
void AddRunRoutes(Router& router, ApiContext& context);
// GET /api/runs/{id}/logs, followed (?follow=1) as a stream.
void AddLogRoutes(Router& router, ApiContext& context);
// GET /metrics (Prometheus text).
void AddMetricsRoutes(Router& router, ApiContext& context);

// Takes one run from serve.runs_per_minute or refuses with 429 api.rate_limited (Retry-After).
void TakeRun(ApiContext& context, int per_minute);

// A whole-number query parameter, `fallback` when absent, else 400 api.bad_parameter.
int64_t NumberParam(const Request& request, const std::string& name, int64_t fallback);

// The {id} capture as a run id (404 api.not_found when it cannot be one).
int64_t RunIdOf(const Request& request);

}  // namespace sluice::server
