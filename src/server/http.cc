#include "server/http.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <thread>

#include "common/error.h"
#include "common/redact.h"
#include "server/api.h"

namespace sluice::server {

using nlohmann::json;

namespace {

void Send(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  Send(res, status, {{"error", Redact(message)}});
  res.set_header("X-Sluice-Error", "1");  // answered: the error handler leaves it alone
}

// A whole number from a query parameter, or a sluice::Error(kInput) naming it.
int64_t Number(const httplib::Request& req, const std::string& name, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  std::string text = req.get_param_value(name);
  try {
    size_t used = 0;
    int64_t v = std::stoll(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  Fail(ErrorKind::kInput, "query parameter {}='{}' must be a whole number", name, text);
}

// What a request got wrong is a 400; lookups answer 404 and state conflicts 409 themselves.
int StatusFor(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::kUsage:
    case ErrorKind::kConfig:
    case ErrorKind::kInput:
      return 400;
    default:
      return 500;
  }
}

int64_t IdOf(const httplib::Request& req) {
  try {
    return std::stoll(req.matches[1]);
  } catch (const std::exception&) {
    Fail(ErrorKind::kUsage, "no run {}", req.matches[1].str());
  }
}

}  // namespace

struct HttpServer::Impl {
  orchestrator::Service& service;
  httplib::Server http;
  std::atomic<bool> stopping{false};  // ends followed logs

  explicit Impl(orchestrator::Service& s) : service(s) {
    // Followed logs hold a thread each; leave room for the rest of the API.
    http.new_task_queue = [] { return new httplib::ThreadPool(32); };
    // Every handler answers JSON errors instead of dropping the connection.
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          try {
            std::rethrow_exception(ep);
          } catch (const Error& e) {
            SendError(res, StatusFor(e), e.what());
          } catch (const std::exception& e) {
            SendError(res, 500, e.what());
          }
        });
    http.Get("/api/health", [this](const httplib::Request&, httplib::Response& res) {
      bool ready = service.ready();
      Send(res, ready ? 200 : 503,
           {{"status", ready ? "ok" : "starting"},
            {"project", service.definitions()->project.name}});
    });
    http.Get("/api/workflows", [this](const httplib::Request&, httplib::Response& res) {
      json out = json::array();
      for (const auto& [name, wf] : service.definitions()->workflows) out.push_back(Workflow(wf));
      Send(res, 200, out);
    });
    http.Get(R"(/api/workflows/([A-Za-z0-9_]+))", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
      auto defs = service.definitions();
      auto it = defs->workflows.find(req.matches[1]);
      if (it == defs->workflows.end()) {
        return SendError(res, 404, fmt::format("no workflow '{}'", req.matches[1].str()));
      }
      json out = Workflow(it->second);
      out["runs"] = json::array();
      for (const auto& r :
           service.metastore().ListRuns({.kind = "workflow", .name = it->first, .limit = 20})) {
        out["runs"].push_back(RunJson(r));
      }
      Send(res, 200, out);
    });
    http.Post(R"(/api/workflows/([A-Za-z0-9_]+)/runs)", [this](const httplib::Request& req,
                                                               httplib::Response& res) {
      json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return SendError(res, 400,
                         "the body must be a JSON object, e.g. "
                         "{\"params\": {\"day\": \"2026-11-22\"}}");
      }
      json params = body.value("params", json::object());
      if (!params.is_object()) return SendError(res, 400, "params must be an object");
      for (auto& [k, v] : params.items()) {
        if (!v.is_string()) v = v.dump();
      }
      if (!service.definitions()->workflows.count(req.matches[1])) {
        return SendError(res, 404,
                         fmt::format("no workflow '{}' (GET /api/workflows "
                                     "lists them)",
                                     req.matches[1].str()));
      }
      int64_t id = service.Trigger(req.matches[1], params, "api");
      Send(res, 201, RunJson(*service.metastore().GetRun(id)));
    });
    http.Get("/api/runs", [this](const httplib::Request& req, httplib::Response& res) {
      meta::RunFilter f;
      if (req.has_param("status")) f.statuses = {req.get_param_value("status")};
      f.kind = req.get_param_value("kind");
      f.name = req.get_param_value("name");
      f.trigger = req.get_param_value("trigger");
      f.limit = static_cast<size_t>(std::clamp<int64_t>(Number(req, "limit", 50), 1, 100000));
      f.before_id = Number(req, "before", 0);
      json out = json::array();
      for (const auto& r : service.metastore().ListRuns(f)) out.push_back(RunJson(r));
      Send(res, 200, out);
    });
    http.Get(R"(/api/runs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto detail = RunDetailJson(service.metastore(), IdOf(req));
      if (!detail) return SendError(res, 404, fmt::format("no run {}", IdOf(req)));
      Send(res, 200, *detail);
    });
    http.Get(R"(/api/runs/(\d+)/logs)",
             [this](const httplib::Request& req, httplib::Response& res) { Logs(req, res); });
    http.Post(R"(/api/runs/(\d+)/cancel)",
              [this](const httplib::Request& req, httplib::Response& res) {
                auto run = service.metastore().RequestCancel(IdOf(req));
                if (!run) return SendError(res, 404, fmt::format("no run {}", IdOf(req)));
                Send(res, 202, RunJson(*run));
              });
    http.Post(R"(/api/runs/(\d+)/retry)",
              [this](const httplib::Request& req, httplib::Response& res) {
                auto run = service.metastore().GetRun(IdOf(req));
                if (!run) return SendError(res, 404, fmt::format("no run {}", IdOf(req)));
                if (run->status != "failed" && run->status != "cancelled") {
                  return SendError(res, 409,
                                   fmt::format("run {} is {}; only failed or cancelled "
                                               "runs can be retried",
                                               run->id, run->status));
                }
                service.Retry(run->id);
                Send(res, 202, RunJson(*service.metastore().GetRun(run->id)));
              });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.MetricsText(), "text/plain; version=0.0.4");
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
      if (res.has_header("X-Sluice-Error")) return httplib::Server::HandlerResponse::Unhandled;
      if (req.method == "POST" && !req.has_header("Content-Length")) {
        SendError(
            res, 411,
            fmt::format("{} {}: a POST needs a body (send {{}} or -d '')", req.method, req.path));
      } else if (res.status == 404) {
        SendError(res, 404,
                  fmt::format("{} {}: no such endpoint (see docs/api.md)", req.method, req.path));
      } else {
        SendError(res, res.status,
                  fmt::format("{} {}: the request could not be read (HTTP {})", req.method,
                              req.path, res.status));
      }
      return httplib::Server::HandlerResponse::Handled;
    }));
  }

  static json Materialize(const project::Workflow& wf) {
    json out = json::array();
    for (const auto& t : wf.materialize) out.push_back(t.str());
    return out;
  }

  static json Workflow(const project::Workflow& wf) {
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
    return {{"name", wf.name},
            {"description", wf.description},
            {"file", wf.file},
            {"triggers", triggers},
            {"steps", wf.steps.size()},
            {"parameters", params},
            {"materialize", Materialize(wf)}};
  }

  void Logs(const httplib::Request& req, httplib::Response& res) {
    int64_t id = IdOf(req);
    auto& m = service.metastore();
    if (!m.GetRun(id)) return SendError(res, 404, fmt::format("no run {}", id));
    int64_t after = Number(req, "after", 0);
    bool follow = req.get_param_value("follow") == "1" || req.get_param_value("follow") == "true";
    if (!follow) {
      json out = json::array();
      for (const auto& l : m.Logs(id, after, 100000)) out.push_back(LogJson(l));
      return Send(res, 200, out);
    }
    // Follow: one JSON object per line as lines are written, until the run ends.
    res.set_chunked_content_provider(
        "application/x-ndjson", [this, id, after](size_t, httplib::DataSink& sink) mutable {
          auto& m = service.metastore();
          for (int i = 0; i < 6000 && sink.is_writable() && !stopping; ++i) {  // 10 min at most
            auto run = m.GetRun(id);
            bool ended = !run || meta::IsTerminal(run->status);
            for (const auto& l : m.Logs(id, after, 1000)) {
              std::string line = LogJson(l).dump() + "\n";
              if (!sink.write(line.data(), line.size())) return false;
              after = l.id;
            }
            if (ended) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          sink.done();
          return true;
        });
  }
};

HttpServer::HttpServer(orchestrator::Service& service) : impl_(std::make_unique<Impl>(service)) {}

HttpServer::~HttpServer() = default;

int HttpServer::Bind(const std::string& host, int port) {
  int bound = port == 0 ? impl_->http.bind_to_any_port(host)
                        : (impl_->http.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    Fail(ErrorKind::kUsage, "cannot listen on {}:{} (in use, or not an address of this machine)",
         host, port);
  }
  return bound;
}

void HttpServer::Serve() { impl_->http.listen_after_bind(); }

void HttpServer::Stop() {
  impl_->stopping = true;
  impl_->http.stop();
}

}  // namespace sluice::server
