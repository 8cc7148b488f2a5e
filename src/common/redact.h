#pragma once
// Every resolved secret (a `${env:NAME}` value from project files) is registered here, and every
// message that leaves Sluice (errors, logs, listings) passes through Redact.
#include <string>
#include <string_view>

namespace sluice {

void RegisterSecret(std::string_view value);
std::string Redact(std::string text);

}  // namespace sluice
