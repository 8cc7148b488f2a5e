#include "api/workflows.h"

#include "common/redact.h"

namespace sluice::api {

using nlohmann::json;

json WorkflowJson(const project::Workflow& wf) {
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
  json materialize = json::array();
  for (const auto& t : wf.materialize) materialize.push_back(t.str());
  return {{"name", wf.name},           {"description", wf.description}, {"file", wf.file},
          {"triggers", triggers},      {"steps", wf.steps.size()},      {"parameters", params},
          {"materialize", materialize}};
}

}  // namespace sluice::api
