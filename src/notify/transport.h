#pragma once
// Internal to notify: one delivery attempt per channel kind, and the texts they send. Webhook and
// email attempts go through net/ and throw its sluice::Error (net.*) when not delivered; command
// and file attempts return "" when delivered, else what went wrong. Neither is redacted yet: the
// caller redacts.
#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/files.h"
#include "project/project.h"

namespace sluice::notify::internal {

// What every attempt needs besides the channel and the payload.
struct AttemptContext {
  int64_t timeout_ms = 10'000;
  std::string ca_file;              // extra CA bundle for TLS (empty: the system's)
  const std::atomic<bool>* stop{};  // set when the notifier shuts down: abort the attempt
};

// "sha256=<hex HMAC-SHA256 of body keyed with secret>", the X-Sluice-Signature header value.
std::string Signature(const std::string& secret, const std::string& body);

// POSTs `body` (JSON) to the channel's URL; any non-2xx status is a failure (net.http_status),
// and a redirect is not followed.
void PostWebhook(const project::Channel& channel, const std::string& event_type,
                 const std::string& body, const AttemptContext& context);

// The RFC 5322 message (CRLF line ends) an email channel sends for `event` (ToJson's output).
std::string EmailMessage(const project::Channel& channel, const nlohmann::json& event,
                         int64_t now_ms);
// Sends `message` through the channel's SMTP server to its recipients.
void SendEmail(const project::Channel& channel, const std::string& message,
               const AttemptContext& context);

// Runs `/bin/sh -c command` with `input` on stdin; a non-zero exit status or running past the
// timeout (the command is then killed) is a failure.
std::string RunCommand(const std::string& command, const std::string& input,
                       const AttemptContext& context);

// Appends `line` and a newline to `path` with one O_APPEND write, creating parent folders.
std::string AppendLine(const fs::path& path, const std::string& line);

}  // namespace sluice::notify::internal
