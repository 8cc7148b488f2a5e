#pragma once
// Every resolved secret (a `${env:NAME}` value from project files) is registered here, and every
// message that leaves Sluice (errors, logs, listings) passes through Redact.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

void RegisterSecret(std::string_view value);
// Whether `value` is a registered secret (as a whole).
bool IsSecret(std::string_view value);
// The registered secrets that occur in `text`, longest first.
std::vector<std::string> SecretsIn(std::string_view text);
std::string Redact(std::string text);
// Every string in `value` (keys included) with registered secrets replaced. Redacting the
// values rather than the serialized text keeps secrets out even when JSON escaping would change
// how they look, and keeps the JSON valid.
nlohmann::json RedactJson(const nlohmann::json& value);

}  // namespace sluice
