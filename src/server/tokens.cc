#include "server/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/error.h"
#include "common/files.h"

namespace sluice::server {

std::string NewTokenSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    FailWithCode(ErrorKind::kIo, "io.random",
                 "cannot draw random bytes for a token (OpenSSL RAND_bytes failed)");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sluice_";
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string TokenHash(std::string_view secret) { return Sha256Hex(secret); }

std::optional<std::string> MatchToken(const std::vector<meta::ApiToken>& tokens,
                                      std::string_view secret) {
  std::string hash = TokenHash(secret);
  std::optional<std::string> found;
  for (const auto& t : tokens) {  // every hash is compared: no early exit
    if (t.hash.size() == hash.size() &&
        CRYPTO_memcmp(t.hash.data(), hash.data(), hash.size()) == 0) {
      found = t.name;
    }
  }
  return found;
}

bool IsTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sluice::server
