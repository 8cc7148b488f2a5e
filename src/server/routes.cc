#include "server/routes.h"

#include <algorithm>

#include "common/time.h"

namespace sluice::server {

void TakeRun(ApiContext& context, int per_minute) {
  if (int64_t wait = context.runs_rate.Take(per_minute, NowMs())) {
    HttpError e(429, "api.rate_limited",
                fmt::format("more than {} runs a minute were asked for (serve "
                            "runs_per_minute); try again in {} s",
                            per_minute, wait));
    e.headers.emplace_back("Retry-After", std::to_string(wait));
    throw e;
  }
}

int64_t NumberParam(const Request& request, const std::string& name, int64_t fallback) {
  if (!request.Has(name)) return fallback;
  std::string text = request.Param(name);
  if (!text.empty() && text.size() <= 18 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoll(text);
  }
  Refuse(400, "api.bad_parameter", "query parameter {}='{}' must be a whole number", name,
         text.substr(0, 40));
}

int64_t RunIdOf(const Request& request) {
  const std::string& text = request.captures.at(0);
  if (text.size() > 18) Refuse(404, "api.not_found", "no run {}", text.substr(0, 40));
  return std::stoll(text);
}

}  // namespace sluice::server
