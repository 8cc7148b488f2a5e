#include "meta/testing/backends.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>

#include "pg/pg.h"
#include "pg/testing/server.h"

namespace sluice::meta::testing {
namespace {

pg::testing::Server& SharedServer() {
  static std::once_flag once;
  static std::unique_ptr<pg::testing::Server> server;
  std::call_once(once, [] { server = std::make_unique<pg::testing::Server>(); });
  return *server;
}

std::string PostgresUri(const fs::path& dir) {
  auto& server = SharedServer();
  std::string db = fmt::format("m_{:016x}", std::hash<std::string>{}(dir.string()));
  pg::Connection admin(server.conninfo());
  if (admin.Query("SELECT 1 FROM pg_database WHERE datname = $1", {db}).rows() == 0) {
    admin.Query("CREATE DATABASE " + db);
  }
  return server.uri(db);
}

}  // namespace

bool Backend::available() const {
  return name != "postgresql" || !pg::testing::Server::BinDir().empty();
}

std::vector<Backend> Backends() {
  return {
      {"sqlite", [](const fs::path& dir) { return "sqlite:" + (dir / "store.sqlite").string(); }},
      {"postgresql", PostgresUri},
  };
}

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

}  // namespace sluice::meta::testing
