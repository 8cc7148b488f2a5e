#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

bool SqlAccessStore::CreateToken(const std::string& name, const std::string& hash) {
  auto lock = core_.Lock();
  Statement s(core_,
              "INSERT INTO api_tokens (name, hash, created_ms) VALUES (?, ?, ?) "
              "ON CONFLICT (name) DO NOTHING");
  s.Bind(1, name).Bind(2, hash).Bind(3, NowMs()).Run();
  return core_.Changes() == 1;
}

std::vector<ApiToken> SqlAccessStore::Tokens() {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT name, hash, created_ms, last_used_ms FROM api_tokens ORDER BY name");
  std::vector<ApiToken> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Int(3)});
  return out;
}

bool SqlAccessStore::RevokeToken(const std::string& name) {
  auto lock = core_.Lock();
  Statement s(core_, "DELETE FROM api_tokens WHERE name = ?");
  s.Bind(1, name).Run();
  return core_.Changes() == 1;
}

void SqlAccessStore::TouchToken(const std::string& name, int64_t now_ms) {
  auto lock = core_.Lock();
  Statement s(core_, "UPDATE api_tokens SET last_used_ms = ? WHERE name = ?");
  s.Bind(1, now_ms).Bind(2, name).Run();
}

}  // namespace sluice::meta
