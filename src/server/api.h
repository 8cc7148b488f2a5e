#pragma once
// The JSON of runs, steps, attempts and log lines: one shape for `sluice runs --format json`,
// `sluice runs show`, `sluice logs` and the HTTP API (docs/api.md).
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "meta/metastore.h"

namespace sluice::server {

// RFC 3339 in UTC with milliseconds, or null for 0.
nlohmann::json TimeJson(int64_t ms);

// A run as listed: id, kind, name, status, trigger, queued_at, started_at, ended_at, figures,
// error, details, parent_run_id, params.
nlohmann::json RunJson(const meta::Run& run);

// A run with everything known about it: for workflows, `steps` with their `attempts`; for jobs
// and models, their `steps` and `checks`. nullopt when there is no such run.
std::optional<nlohmann::json> RunDetailJson(meta::Metastore& metastore, int64_t id);

nlohmann::json LogJson(const meta::LogLine& line);

// An error answer: {"error": its redacted text, "code": its stable code, or its kind's name
// (`usage`, `io`, ...) where it has none}.
nlohmann::json ErrorJson(const Error& error);

}  // namespace sluice::server
