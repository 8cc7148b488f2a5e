#include "api/runs.h"
#include "api/workflows.h"
#include "server/routes.h"

namespace sluice::server {

using nlohmann::json;

void AddWorkflowRoutes(Router& router, ApiContext& context) {
  orchestrator::Service& service = context.service;
  router.Add(Method::kGet, "/api/workflows", [&service](const Request&) {
    json out = json::array();
    for (const auto& [name, wf] : service.definitions()->workflows) {
      out.push_back(api::WorkflowJson(wf));
    }
    return Response::Json(200, out);
  });
  router.Add(Method::kGet, "/api/workflows/{name}", [&service](const Request& req) {
    auto defs = service.definitions();
    const std::string& name = req.captures[0];
    auto it = defs->workflows.find(name);
    if (it == defs->workflows.end()) Refuse(404, "api.not_found", "no workflow '{}'", name);
    json out = api::WorkflowJson(it->second);
    out["runs"] = json::array();
    for (const auto& r :
         service.metastore().ListRuns({.kind = "workflow", .name = it->first, .limit = 20})) {
      out["runs"].push_back(api::RunJson(r));
    }
    return Response::Json(200, out);
  });
  router.Add(Method::kPost, "/api/workflows/{name}/runs", [&context](const Request& req) {
    auto defs = context.service.definitions();
    const std::string& name = req.captures[0];
    json params = req.body.contains("params") ? req.body["params"] : json::object();
    if (!params.is_object()) Refuse(400, "api.bad_body", "params must be an object of name: value");
    for (auto& [k, v] : params.items()) {
      if (orchestrator::IsReservedParam(k)) {
        Refuse(400, "api.reserved_param", "parameter '{}' is set by triggers, not by callers", k);
      }
      if (!v.is_string()) v = v.dump();
    }
    if (!defs->workflows.count(name)) {
      Refuse(404, "api.not_found", "no workflow '{}' (GET /api/workflows lists them)", name);
    }
    TakeRun(context, defs->project.serve.runs_per_minute);
    int64_t id = context.service.Trigger(name, params, "api");
    return Response::Json(201, api::RunJson(*context.service.metastore().GetRun(id)));
  });
}

}  // namespace sluice::server
