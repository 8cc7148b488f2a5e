#pragma once
// meta::AccessStore: the API tokens of `sluice serve` (only the SHA-256 of each secret is
// stored). Later: roles, grants and the audit log.
//
// Contract, for every backend:
// - Each call is one statement.
// - CreateToken answers false when `name` is taken; RevokeToken false when there is no such
//   token; TouchToken records a use (a no-op for a missing or revoked token).
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <cstdint>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class AccessStore {
 public:
  virtual ~AccessStore() = default;

  virtual bool CreateToken(const std::string& name, const std::string& hash) = 0;
  // Every token, by name.
  virtual std::vector<ApiToken> Tokens() = 0;
  virtual bool RevokeToken(const std::string& name) = 0;
  virtual void TouchToken(const std::string& name, int64_t now_ms) = 0;
};

}  // namespace sluice::meta
