#include "api/errors.h"

#include "common/redact.h"

namespace sluice::api {

nlohmann::json ErrorJson(const Error& e) {
  return {{"error", Redact(e.what())},
          {"code", e.code().empty() ? std::string(ErrorKindName(e.kind())) : e.code()}};
}

}  // namespace sluice::api
