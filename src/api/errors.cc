#include "api/errors.h"

#include "common/redact.h"

namespace sluice::api {

nlohmann::json ErrorJson(const Error& e) {
  return {{"error", Redact(e.what())}, {"code", e.shown_code()}};
}

}  // namespace sluice::api
