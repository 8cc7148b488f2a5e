#pragma once
// The JSON of an error, one shape for the HTTP API's answers, a followed log's last line and
// `--format json` on the command line (docs/errors.md lists the codes).
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace sluice::api {

// {"error": the redacted text, "code": the stable code, or the kind's name (`usage`, `io`, ...)
// for an error that has none}.
nlohmann::json ErrorJson(const Error& error);

}  // namespace sluice::api
