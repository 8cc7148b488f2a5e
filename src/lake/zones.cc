#include "lake/zones.h"

#include <fmt/format.h>

namespace sluice::lake::zones {

namespace {
constexpr const char* kLanding = "landing/";
constexpr const char* kQuarantine = "quarantine/";
}  // namespace

std::string LandingPrefix(const std::string& source) { return kLanding + source + "/"; }

std::string ExtractStagingKey(const std::string& owner, const std::string& run,
                              const std::string& name) {
  return "_extract/" + owner + "/" + run + "/" + name;
}

std::string ExtractKeySetKey(const std::string& source, const std::string& run) {
  return "_extract_state/" + source + "/keys-" + run + ".parquet";
}

std::string ExtractedKey(const std::string& source, const std::string& date,
                         const std::string& name) {
  return LandingPrefix(source) + "extracted_at=" + date + "/" + name;
}

std::optional<std::string> SourceOfLanded(const std::string& key) {
  const std::string landing = kLanding;
  if (key.compare(0, landing.size(), landing) != 0) return std::nullopt;
  auto end = key.find('/', landing.size());
  if (end == std::string::npos || end == landing.size()) return std::nullopt;
  return key.substr(landing.size(), end - landing.size());
}

std::string TablePrefix(const std::string& db, const std::string& name) {
  if (db == "bronze") return LandingPrefix(name);
  if (db == "silver") return "staging/" + name + "/";
  if (db == "gold") return "curated/" + name + "/";
  return db + "/" + name + "/";
}

std::string QuarantinedLandedKey(const std::string& source, int64_t run_id,
                                 const std::string& key) {
  std::string prefix = LandingPrefix(source);
  return fmt::format("{}{}run-{}/{}", kQuarantine, prefix, run_id, key.substr(prefix.size()));
}

std::string RemovedLandedKey(const std::string& source, int64_t removed_ms,
                             const std::string& key) {
  std::string prefix = LandingPrefix(source);
  return fmt::format("{}{}removed-{}/{}", kQuarantine, prefix, removed_ms,
                     key.substr(prefix.size()));
}

bool IsLandedAside(const std::string& key) {
  return key.rfind(std::string(kQuarantine) + "landing/", 0) == 0;
}

}  // namespace sluice::lake::zones
