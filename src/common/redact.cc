#include "common/redact.h"

#include <mutex>
#include <set>

#include "common/strings.h"

namespace sluice {
namespace {
std::mutex mu;
// Longest first: a secret that is part of a longer one must not be replaced first, leaving the
// rest of the longer one in the text.
struct LongestFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
};
std::set<std::string, LongestFirst>& Secrets() {
  static std::set<std::string, LongestFirst> secrets;
  return secrets;
}
}  // namespace

void RegisterSecret(std::string_view value) {
  // Very short values would redact ordinary words; they are not secrets worth the name.
  if (value.size() < 4) return;
  std::lock_guard lock(mu);
  Secrets().emplace(value);
}

bool IsSecret(std::string_view value) {
  std::lock_guard lock(mu);
  return Secrets().count(std::string(value)) > 0;
}

std::vector<std::string> SecretsIn(std::string_view text) {
  std::lock_guard lock(mu);
  std::vector<std::string> found;
  for (const auto& secret : Secrets()) {
    if (text.find(secret) != std::string_view::npos) found.push_back(secret);
  }
  return found;
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
