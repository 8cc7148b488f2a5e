#include "common/redact.h"

#include <mutex>
#include <set>

#include "common/strings.h"

namespace sluice {
namespace {
std::mutex mu;
std::set<std::string>& Secrets() {
  static std::set<std::string> secrets;
  return secrets;
}
}  // namespace

void RegisterSecret(std::string_view value) {
  // Very short values would redact ordinary words; they are not secrets worth the name.
  if (value.size() < 4) return;
  std::lock_guard lock(mu);
  Secrets().emplace(value);
}

std::string Redact(std::string text) {
  std::lock_guard lock(mu);
  for (const auto& secret : Secrets()) ReplaceAll(text, secret, "***");
  return text;
}

nlohmann::json RedactJson(const nlohmann::json& value) {
  if (value.is_string()) return Redact(value.get<std::string>());
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      out[Redact(it.key())] = RedactJson(it.value());
    }
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(RedactJson(item));
    return out;
  }
  return value;
}

}  // namespace sluice
