#include "server/routes.h"

namespace sluice::server {

void AddHealthRoutes(Router& router, ApiContext& context) {
  router.Add(Method::kGet, "/api/health",
             [&context](const Request&) {
               bool ready = context.service.ready();
               return Response::Json(ready ? 200 : 503,
                                     {{"status", ready ? "ok" : "starting"},
                                      {"project", context.service.definitions()->project.name}});
             },
             {.open = true});
}

}  // namespace sluice::server
