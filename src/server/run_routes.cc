#include <algorithm>

#include "api/runs.h"
#include "common/strings.h"
#include "server/routes.h"

namespace sluice::server {

using nlohmann::json;

void AddRunRoutes(Router& router, ApiContext& context) {
  orchestrator::Service& service = context.service;
  router.Add(Method::kGet, "/api/runs", [&service](const Request& req) {
    meta::RunFilter f;
    if (req.Has("status")) {
      auto status = meta::FindRunStatus(req.Param("status"));
      if (!status) {
        Refuse(400, "api.bad_parameter",
               "query parameter status='{}' must be one of queued, running, succeeded, failed, "
               "cancelled",
               req.Param("status").substr(0, 40));
      }
      f.statuses = {*status};
    }
    f.kind = req.Param("kind");
    f.name = req.Param("name");
    f.trigger = req.Param("trigger");
    if (req.Has("trigger_kind")) {
      f.trigger_kind = meta::FindTriggerKind(req.Param("trigger_kind"));
      if (!f.trigger_kind) {
        Refuse(400, "api.bad_parameter", "query parameter trigger_kind='{}' must be one of {}",
               req.Param("trigger_kind").substr(0, 40), Join(meta::TriggerKindWords(), ", "));
      }
    }
    f.limit = static_cast<size_t>(std::clamp<int64_t>(NumberParam(req, "limit", 50), 1, 100000));
    f.before_id = NumberParam(req, "before", 0);
    json out = json::array();
    for (const auto& r : service.metastore().ListRuns(f)) out.push_back(api::RunJson(r));
    return Response::Json(200, out);
  });
  router.Add(Method::kGet, "/api/runs/{id}", [&service](const Request& req) {
    auto detail = api::RunDetailJson(service.metastore(), RunIdOf(req));
    if (!detail) Refuse(404, "api.not_found", "no run {}", RunIdOf(req));
    return Response::Json(200, *detail);
  });
  router.Add(Method::kPost, "/api/runs/{id}/cancel", [&service](const Request& req) {
    auto before = service.metastore().GetRun(RunIdOf(req));
    if (!before) Refuse(404, "api.not_found", "no run {}", RunIdOf(req));
    auto ended = [](const meta::Run& run) {
      Refuse(409, "api.not_cancellable", "run {} already ended {}; there is nothing to cancel",
             run.id, meta::ToString(run.status));
    };
    if (meta::IsTerminal(before->status)) ended(*before);
    auto run = service.metastore().RequestCancel(before->id);
    // It may have ended on its own between the two reads.
    if (!run || (meta::IsTerminal(run->status) && run->status != meta::RunStatus::kCancelled)) {
      ended(run ? *run : *before);
    }
    return Response::Json(202, api::RunJson(*run));
  });
  router.Add(Method::kPost, "/api/runs/{id}/retry", [&context](const Request& req) {
    auto& service = context.service;
    if (req.Has("latest")) {
      // A POST takes its options in its body; a query parameter ignored would run other
      // definitions than the caller asked for.
      Refuse(400, "api.bad_parameter",
             "latest goes in the JSON body: {{\"latest\": true}}, not in the query");
    }
    const json& latest = req.body.contains("latest") ? req.body["latest"] : json(false);
    if (!latest.is_boolean()) Refuse(400, "api.bad_body", "latest must be true or false");
    auto run = service.metastore().GetRun(RunIdOf(req));
    if (!run) Refuse(404, "api.not_found", "no run {}", RunIdOf(req));
    if (run->status != meta::RunStatus::kFailed && run->status != meta::RunStatus::kCancelled) {
      Refuse(409, "api.not_retryable", "run {} is {}; only failed or cancelled runs can be retried",
             run->id, meta::ToString(run->status));
    }
    TakeRun(context, service.definitions()->project.serve.runs_per_minute);
    auto plan = service.Retry(*run, latest.get<bool>() ? orchestrator::RetryDefinitions::kLatest
                                                       : orchestrator::RetryDefinitions::kRecorded);
    json out = api::RunJson(*service.metastore().GetRun(run->id));
    out["definitions"] = orchestrator::ToString(plan.definitions);
    return Response::Json(202, out);
  });
}

}  // namespace sluice::server
