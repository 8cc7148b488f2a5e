#pragma once
// API tokens of `sluice serve`: a random secret shown once, of which the metastore keeps only
// the SHA-256 (meta::ApiToken). A presented secret is hashed and compared with every stored hash
// in constant time, so neither timing nor an early exit tells how much of it matched.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meta/metastore.h"

namespace sluice::server {

// "sluice_" and 64 hex digits from 32 bytes of OpenSSL's random generator.
std::string NewTokenSecret();

// The hex SHA-256 stored for `secret`.
std::string TokenHash(std::string_view secret);

// The name of the token whose hash is `secret`'s, or nullopt.
std::optional<std::string> MatchToken(const std::vector<meta::ApiToken>& tokens,
                                      std::string_view secret);

// Whether `name` may name a token: 1 to 64 letters, digits, '_', '-' or '.'.
bool IsTokenName(std::string_view name);

}  // namespace sluice::server
