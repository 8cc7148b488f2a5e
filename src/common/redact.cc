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

}  // namespace sluice
