#include "api/runs.h"
#include "common/time.h"
#include "server/routes.h"

namespace sluice::server {

using nlohmann::json;

namespace {

// How long one followed request streams at most; the client follows again with `after`.
constexpr int64_t kFollowForMs = 10 * 60'000;
// Log lines read per poll.
constexpr size_t kLinesPerPoll = 1000;

// A followed log: one JSON object per line as lines are written, until the run ends. Holds one
// of serve.max_followers while it lives.
class LogStream : public Stream {
 public:
  LogStream(ApiContext& context, int64_t run_id, int64_t after)
      : context_(context), run_id_(run_id), after_(after), end_ms_(NowMs() + kFollowForMs) {}
  ~LogStream() override { --context_.followers; }

  bool Next(std::string& out) override {
    auto& m = context_.service.metastore();
    auto run = m.GetRun(run_id_);
    bool ended = !run || meta::IsTerminal(run->status);
    auto lines = m.Logs(run_id_, after_, kLinesPerPoll);
    for (const auto& l : lines) {
      out += api::LogJson(l).dump() + "\n";
      after_ = l.id;
    }
    return (ended && lines.size() < kLinesPerPoll) || NowMs() >= end_ms_;
  }

 private:
  ApiContext& context_;
  const int64_t run_id_;
  int64_t after_;
  const int64_t end_ms_;
};

}  // namespace

void AddLogRoutes(Router& router, ApiContext& context) {
  router.Add(Method::kGet, "/api/runs/{id}/logs", [&context](const Request& req) {
    int64_t id = RunIdOf(req);
    auto& m = context.service.metastore();
    if (!m.GetRun(id)) Refuse(404, "api.not_found", "no run {}", id);
    int64_t after = NumberParam(req, "after", 0);
    if (req.Param("follow") != "1" && req.Param("follow") != "true") {
      json out = json::array();
      for (const auto& l : m.Logs(id, after, 100000)) out.push_back(api::LogJson(l));
      return Response::Json(200, out);
    }
    int limit = context.service.definitions()->project.serve.max_followers;
    if (context.followers.fetch_add(1) >= limit) {
      --context.followers;
      HttpError e(503, "api.busy",
                  fmt::format("{} log streams are open already (serve max_followers); read "
                              "without follow, or follow again later",
                              limit));
      e.headers.emplace_back("Retry-After", "5");
      throw e;
    }
    Response r;
    r.content_type = "application/x-ndjson";
    r.stream = std::make_shared<LogStream>(context, id, after);
    return r;
  });
}

}  // namespace sluice::server
