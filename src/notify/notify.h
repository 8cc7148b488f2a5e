#pragma once
// Notifications (the SNS of the AWS design): events such as "run failed" are delivered to the
// channels of sluice.yaml that subscribe to them: webhook (JSON POST, retried with backoff,
// optional HMAC-SHA256 signature), email (SMTP via net/mail.h, STARTTLS), command (JSON on stdin)
// and file (JSON lines). Delivery happens on a background thread so a slow channel never holds
// a run up; Flush waits for what is queued. Secrets never appear in what is sent.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "project/project.h"

namespace sluice::notify {

struct Event {
  std::string type;               // one of project::kEventTypes
  std::string project;            // project name
  std::string subject;            // what it is about, e.g. "workflow orders", "job clean_orders"
  int64_t run_id = 0;             // 0 when not about a run
  std::string step;               // where: the step's path in the workflow ("" for the run itself)
  std::string error_kind, error;  // for failures
  std::string message;            // one line for people
  nlohmann::json details = nlohmann::json::object();
  int64_t time_ms = 0;  // when it happened (0: now)
};

// The JSON every channel receives: the event's fields, `time` in RFC 3339, and `logs` (the
// command that shows the run's log, e.g. "sluice logs 42"). Secrets redacted.
nlohmann::json ToJson(const Event& event);

// What happened to one delivery, for the server's log and metrics.
struct Delivery {
  std::string channel, event_type;
  int attempts = 0;
  bool ok = false;
  std::string error;  // redacted
};

struct Options {
  int64_t initial_backoff_ms = 500;  // webhook/email retries: 0.5 s, 1 s, 2 s, ...
  int64_t max_backoff_ms = 30'000;
  int64_t timeout_ms = 10'000;  // per HTTP/SMTP/command attempt
  std::string ca_file;          // PEM CA bundle trusted for HTTPS/SMTP TLS instead of the system's
};

// The project's channels, plus a webhook channel for OpenLineage events (type "lineage") when
// sluice.yaml names a lineage URL. Throws sluice::Error(kConfig, config.env_unset) naming each
// channel setting whose ${env:...} variable is not set: what sends notifications calls it first.
std::map<std::string, project::Channel> Channels(const project::Project& project);

class Notifier {
 public:
  Notifier(std::map<std::string, project::Channel> channels, Options options = {});
  ~Notifier();  // delivers what is queued (up to a few seconds), then stops
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `event` for every channel subscribed to its type, but those in `skip` (channels a
  // workflow's own notify steps already told).
  void Publish(const Event& event, const std::set<std::string>& skip = {});
  // Queues `event` for one channel whatever it subscribes to (a workflow's `notify` step).
  // Throws sluice::Error(kConfig) for an unknown channel, naming the known ones.
  void Send(const std::string& channel, const Event& event);
  // Queues `body` as is (not an Event) for every channel subscribed to `type`: OpenLineage run
  // events go to the lineage channel this way.
  void PublishRaw(const std::string& type, const nlohmann::json& body);
  // Waits until every queued delivery is done; false when `timeout_ms` ran out first.
  bool Flush(int64_t timeout_ms);

  // Called (from the delivery thread) after each delivery ends, delivered or given up.
  std::function<void(const Delivery&)> on_delivery;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::notify
