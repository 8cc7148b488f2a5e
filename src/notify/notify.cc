#include "notify/notify.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "notify/transport.h"

namespace sluice::notify {

nlohmann::json ToJson(const Event& event) {
  nlohmann::json j = nlohmann::json::object();
  j["type"] = event.type;
  j["project"] = event.project;
  j["subject"] = event.subject;
  if (event.run_id != 0) j["run_id"] = event.run_id;
  j["step"] = event.step;
  j["error_kind"] = event.error_kind;
  j["error"] = event.error;
  j["message"] = event.message;
  j["details"] = event.details;
  j["time"] = Rfc3339(event.time_ms != 0 ? event.time_ms : NowMs());
  if (event.run_id != 0) j["logs"] = fmt::format("sluice logs {}", event.run_id);
  return RedactJson(j);
}

namespace {
struct Job {
  std::string channel;
  nlohmann::json event;  // ToJson's output, already redacted
};
}  // namespace

struct Notifier::State {
  Notifier* owner = nullptr;
  std::map<std::string, project::Channel> channels;
  Options options;

  std::mutex mu;
  std::condition_variable wake;  // the worker: a job was queued, or stop
  std::condition_variable idle;  // Flush: a delivery ended
  std::deque<Job> queue;
  bool busy = false;  // the worker is delivering a job taken off the queue
  std::atomic<bool> stop{false};
  std::thread worker;

  void Run();
  Delivery Deliver(const Job& job);
  std::string Attempt(const project::Channel& channel, const Job& job, const std::string& body,
                      const std::string& email);
  void Report(const Delivery& delivery);
};

void Notifier::State::Run() {
  std::unique_lock lock(mu);
  while (true) {
    wake.wait(lock, [&] { return stop.load() || !queue.empty(); });
    if (stop) break;
    Job job = std::move(queue.front());
    queue.pop_front();
    busy = true;
    lock.unlock();
    Delivery delivery;
    try {
      delivery = Deliver(job);
    } catch (const std::exception& e) {  // a bug; the thread must go on
      delivery = {job.channel, job.event.value("type", ""), 1, false, Redact(e.what())};
    }
    Report(delivery);
    lock.lock();
    busy = false;
    idle.notify_all();
  }
  // Shutting down: what is still queued is reported as not delivered.
  std::deque<Job> dropped;
  dropped.swap(queue);
  lock.unlock();
  for (const auto& job : dropped) {
    Report({job.channel, job.event.value("type", ""), 0, false,
            "not delivered: sluice stopped before its turn came"});
  }
  lock.lock();
  idle.notify_all();
}

void Notifier::State::Report(const Delivery& delivery) {
  if (!owner->on_delivery) return;
  try {
    owner->on_delivery(delivery);
  } catch (...) {
    // A failing observer must not stop the deliveries.
  }
}

std::string Notifier::State::Attempt(const project::Channel& channel, const Job& job,
                                     const std::string& body, const std::string& email) {
  internal::AttemptContext context{options.timeout_ms, options.ca_file, &stop};
  try {
    if (channel.type == "webhook") {
      internal::PostWebhook(channel, job.event.value("type", ""), body, context);
      return "";
    }
    if (channel.type == "email") {
      internal::SendEmail(channel, email, context);
      return "";
    }
    if (channel.type == "command") {
      return internal::RunCommand(channel.target, body + "\n", context);
    }
    if (channel.type == "file") return internal::AppendLine(channel.target, body);
    return fmt::format("channel type '{}' is not one of webhook, email, command, file",
                       channel.type);
  } catch (const std::exception& e) {
    return e.what();
  }
}

Delivery Notifier::State::Deliver(const Job& job) {
  Delivery delivery{job.channel, job.event.value("type", "")};
  const project::Channel& channel = channels.at(job.channel);
  // One line; invalid UTF-8 (say, from a Latin-1 file name) is replaced, not an exception.
  const std::string body = job.event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string email;
  if (channel.type == "email") {
    email = Redact(internal::EmailMessage(channel, job.event, NowMs()));
  }
  const int attempts = std::max(1, channel.attempts);
  const int64_t max_backoff = std::max<int64_t>(0, options.max_backoff_ms);
  int64_t backoff = std::clamp<int64_t>(options.initial_backoff_ms, 0, max_backoff);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    delivery.attempts = attempt;
    std::string error = Attempt(channel, job, body, email);
    if (error.empty()) {
      delivery.ok = true;
      delivery.error.clear();
      return delivery;
    }
    delivery.error = Redact(error);
    if (attempt == attempts || stop) break;
    std::unique_lock lock(mu);
    if (wake.wait_for(lock, std::chrono::milliseconds(backoff), [&] { return stop.load(); })) {
      break;
    }
    backoff = std::min(backoff * 2, max_backoff);
  }
  if (stop && delivery.attempts < attempts) {
    delivery.error += " (no further attempt: sluice stopped)";
  }
  return delivery;
}

Notifier::Notifier(std::map<std::string, project::Channel> channels, Options options)
    : state_(std::make_unique<State>()) {
  state_->owner = this;
  state_->channels = std::move(channels);
  for (auto& [name, channel] : state_->channels) {
    if (channel.name.empty()) channel.name = name;
  }
  state_->options = std::move(options);
  state_->worker = std::thread([state = state_.get()] { state->Run(); });
}

Notifier::~Notifier() {
  Flush(5'000);
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->wake.notify_all();
  state_->worker.join();
}

void Notifier::Publish(const Event& event, const std::set<std::string>& skip) {
  Event fixed = event;
  if (fixed.time_ms == 0) fixed.time_ms = NowMs();
  nlohmann::json json = ToJson(fixed);
  {
    std::lock_guard lock(state_->mu);
    for (const auto& [name, channel] : state_->channels) {
      const auto& events = channel.events;
      if (std::find(events.begin(), events.end(), event.type) == events.end()) continue;
      if (skip.count(name)) continue;
      state_->queue.push_back({name, json});
    }
  }
  state_->wake.notify_all();
}

void Notifier::Send(const std::string& channel, const Event& event) {
  if (!state_->channels.count(channel)) {
    std::vector<std::string> names;
    for (const auto& [name, c] : state_->channels) names.push_back(name);
    std::string near = Nearest(channel, names);
    std::string hint = !near.empty()   ? fmt::format("did you mean '{}'?", near)
                       : names.empty() ? "declare channels under `notifications:` in sluice.yaml"
                                       : "known channels: " + Join(names, ", ");
    throw Error(ErrorKind::kConfig, "config.unknown_channel",
                Redact(fmt::format("no notification channel '{}' in sluice.yaml\n  hint: {}",
                                   channel, hint)));
  }
  Event fixed = event;
  if (fixed.time_ms == 0) fixed.time_ms = NowMs();
  {
    std::lock_guard lock(state_->mu);
    state_->queue.push_back({channel, ToJson(fixed)});
  }
  state_->wake.notify_all();
}

void Notifier::PublishRaw(const std::string& type, const nlohmann::json& body) {
  nlohmann::json redacted = RedactJson(body);
  {
    std::lock_guard lock(state_->mu);
    for (const auto& [name, channel] : state_->channels) {
      const auto& events = channel.events;
      if (std::find(events.begin(), events.end(), type) == events.end()) continue;
      state_->queue.push_back({name, redacted});
    }
  }
  state_->wake.notify_all();
}

std::map<std::string, project::Channel> Channels(const project::Project& project) {
  project::Diagnostics unset;
  project::CheckChannelSecrets(project, unset);
  unset.ThrowIfAny();
  auto channels = project.channels;
  if (!project.lineage.url.empty()) {
    project::Channel lineage;
    lineage.name = "(openlineage)";  // not a channel name users could also declare
    lineage.type = "webhook";
    lineage.target = project.lineage.url;
    lineage.events = {"lineage"};
    channels["(openlineage)"] = lineage;
  }
  return channels;
}

bool Notifier::Flush(int64_t timeout_ms) {
  std::unique_lock lock(state_->mu);
  return state_->idle.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms)),
                               [&] { return state_->queue.empty() && !state_->busy; });
}

}  // namespace sluice::notify
