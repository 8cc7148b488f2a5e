#pragma once
// The JSON of runs, steps, attempts, check results and log lines: one shape for
// `sluice runs --format json`, `sluice runs show`, `sluice logs`, `sluice run` and the HTTP API
// (docs/api.md). Pure functions of what the metastore holds; callers print or send the value.
#include <nlohmann/json.hpp>
#include <optional>

#include "extract/extract.h"
#include "meta/metastore.h"
#include "transform/run.h"
#include "warehouse/load.h"

namespace sluice::api {

// RFC 3339 in UTC with milliseconds, or null for 0.
nlohmann::json TimeJson(int64_t ms);

// A run as listed: id, kind, name, status, trigger, trigger_kind (meta::TriggerKindOf), queued_at,
// started_at, ended_at, figures, error, details, parent_run_id, params, cancel_requested.
nlohmann::json RunJson(const meta::Run& run);

// A run with everything known about it: for workflows, `steps` with their `attempts`; for jobs
// and models, their `steps`; `checks` for all. nullopt when there is no such run. Reads the
// metastore; safe from any thread the metastore is.
std::optional<nlohmann::json> RunDetailJson(meta::Metastore& metastore, int64_t id);

// A stored check result as part of a run: table, rule, on_fail, outcome, observed,
// failing_rows, message.
nlohmann::json CheckJson(const meta::CheckResult& check);

// What `sluice run --format json` prints for one job or model run.
nlohmann::json ReportJson(const transform::RunReport& report);

// One load into the warehouse (`sluice load`, a `load:` step, a run's destination): table,
// version, target, mode, key, applied, incremental, files, rows, inserted, updated, deleted,
// changes, message.
nlohmann::json LoadJson(const warehouse::LoadResult& load);

// One extraction (`sluice extract`, an `extract:` step): source, run_id, requests, pages, rows,
// files, cursor (null when not incremental), keys, duration_ms, message.
nlohmann::json ExtractJson(const extract::ExtractReport& report);

nlohmann::json LogJson(const meta::LogLine& line);

}  // namespace sluice::api
