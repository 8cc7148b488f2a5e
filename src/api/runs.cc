#include "api/runs.h"

#include "common/redact.h"
#include "common/time.h"
#include "quality/rules.h"

namespace sluice::api {

using nlohmann::json;

json TimeJson(int64_t ms) { return ms ? json(Rfc3339(ms)) : json(nullptr); }

namespace {
json Parsed(const std::string& text) {
  json v = json::parse(text.empty() ? "{}" : text, nullptr, false);
  return v.is_discarded() ? json::object() : v;
}
}  // namespace

json RunJson(const meta::Run& r) {
  return {{"id", r.id},
          {"kind", r.kind},
          {"name", r.name},
          {"status", meta::ToString(r.status)},
          {"trigger", r.trigger},
          {"trigger_kind", meta::ToString(meta::TriggerKindOf(r.trigger))},
          {"queued_at", TimeJson(r.queued_ms)},
          {"started_at", TimeJson(r.started_ms)},
          {"ended_at", TimeJson(r.ended_ms)},
          {"rows_in", r.rows_in},
          {"rows_out", r.rows_out},
          {"rows_quarantined", r.rows_quarantined},
          {"files_read", r.files_read},
          {"error", r.error.empty() ? json(nullptr) : json(Redact(r.error))},
          {"details", RedactJson(Parsed(r.details))},
          {"params", RedactJson(Parsed(r.params))},
          {"parent_run_id", r.parent_run_id ? json(r.parent_run_id) : json(nullptr)},
          {"cancel_requested", r.cancel_requested},
          // The definitions it ran (its snapshot's hash); null for runs recorded before.
          {"snapshot", r.snapshot.empty() ? json(nullptr) : json(r.snapshot)}};
}

std::optional<json> RunDetailJson(meta::Metastore& m, int64_t id) {
  auto run = m.GetRun(id);
  if (!run) return std::nullopt;
  json out = RunJson(*run);
  out["steps"] = json::array();
  if (run->kind == "workflow") {
    auto attempts = m.Attempts(id);
    for (const auto& s : m.Steps(id)) {
      json step = {{"path", s.path},
                   {"kind", s.kind},
                   {"status", meta::ToString(s.status)},
                   {"attempts", json::array()},
                   {"started_at", TimeJson(s.started_ms)},
                   {"ended_at", TimeJson(s.ended_ms)},
                   {"output", RedactJson(Parsed(s.output))},
                   {"error_kind", s.error_kind.empty() ? json(nullptr) : json(s.error_kind)},
                   {"error", s.error.empty() ? json(nullptr) : json(Redact(s.error))}};
      for (const auto& a : attempts) {
        if (a.path != s.path) continue;
        step["attempts"].push_back(
            {{"attempt", a.attempt},
             {"status", meta::ToString(a.status)},
             {"started_at", TimeJson(a.started_ms)},
             {"ended_at", TimeJson(a.ended_ms)},
             {"error_kind", a.error_kind.empty() ? json(nullptr) : json(a.error_kind)},
             {"error", a.error.empty() ? json(nullptr) : json(Redact(a.error))},
             {"child_run_id", a.child_run_id ? json(a.child_run_id) : json(nullptr)}});
      }
      out["steps"].push_back(step);
    }
  } else {
    for (const auto& s : m.RunSteps(id)) {
      out["steps"].push_back({{"name", s.name},
                              {"status", s.status},
                              {"started_at", TimeJson(s.started_ms)},
                              {"ended_at", TimeJson(s.ended_ms)},
                              {"rows", s.rows < 0 ? json(nullptr) : json(s.rows)}});
    }
  }
  out["checks"] = json::array();
  for (const auto& c : m.CheckResults(id)) out["checks"].push_back(CheckJson(c));
  return out;
}

json CheckJson(const meta::CheckResult& c) {
  return {{"table", c.table},       {"rule", c.rule},
          {"on_fail", c.on_fail},   {"outcome", c.outcome},
          {"observed", c.observed}, {"failing_rows", quality::FailingRowsJson(c)},
          {"message", c.message}};
}

json LoadJson(const warehouse::LoadResult& l) {
  return {{"table", l.table},
          {"version", l.version},
          {"target", l.target},
          {"mode", project::ToString(l.mode)},
          {"key", l.key},
          {"applied", l.applied},
          {"incremental", l.incremental},
          {"files", l.files},
          {"rows", l.rows},
          {"inserted", l.inserted},
          {"updated", l.updated},
          {"deleted", l.deleted},
          {"changes", l.changes},
          {"message", l.message}};
}

json ExtractJson(const extract::ExtractReport& r) {
  return {{"source", r.source},     {"run_id", r.run_id},
          {"requests", r.requests}, {"pages", r.pages},
          {"rows", r.rows},         {"deletes", r.deletes},
          {"files", r.files},       {"cursor", r.cursor ? *r.cursor : json()},
          {"keys", r.keys},         {"duration_ms", r.duration_ms},
          {"message", r.message}};
}

json ReportJson(const transform::RunReport& r) {
  json checks = json::array();
  for (const auto& c : r.checks) checks.push_back(CheckJson(c));
  return {{"run_id", r.run_id},
          {"kind", r.kind},
          {"name", r.name},
          {"status", meta::ToString(r.status)},
          {"message", r.message},
          {"output", r.output},
          {"version", r.version},
          {"rows_in", r.rows_in},
          {"rows_out", r.rows_out},
          {"rows_quarantined", r.rows_quarantined},
          {"rows_filtered", r.rows_filtered},
          {"rows_deduplicated", r.rows_deduplicated},
          {"rows_left_out_by_sql", r.rows_left_out},
          {"files_read", r.files_read},
          {"quarantine_reasons", r.quarantine_reasons},
          {"checks", checks},
          {"duration_ms", r.duration_ms}};
}

json LogJson(const meta::LogLine& l) {
  return {{"id", l.id},       {"run_id", l.run_id}, {"time", TimeJson(l.time_ms)},
          {"level", l.level}, {"step", l.step},     {"message", Redact(l.message)}};
}

}  // namespace sluice::api
