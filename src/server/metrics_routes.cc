#include "server/routes.h"

namespace sluice::server {

void AddMetricsRoutes(Router& router, ApiContext& context) {
  router.Add(Method::kGet, "/metrics", [&context](const Request&) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = context.service.MetricsText();
    return r;
  });
}

}  // namespace sluice::server
