#include "meta/sql_metastore.h"

#include <regex>

#include "common/error.h"
#include "common/redact.h"

namespace sluice::meta {

SqlMetastore::SqlMetastore(std::unique_ptr<SqlCore> core)
    : SqlCatalog(*core),
      SqlRunLog(*core),
      SqlWorkQueue(*core),
      SqlWorkflowState(*core),
      SqlTriggers(*core),
      SqlPublisher(*core),
      SqlAccessStore(*core),
      SqlLandingRegistry(*core),
      SqlExtractState(*core),
      SqlQualityHistory(*core),
      SqlSnapshotStore(*core),
      core_(std::move(core)) {}

SqliteMetastore::SqliteMetastore(const fs::path& path)
    : SqlMetastore(
          std::make_unique<SqlCore>(ConnectSqlite(path), std::make_unique<SqliteDialect>())) {}

namespace {

enum class Backend { kSqlite, kPostgres };

// The backend `uri` names and what it connects to (a path for SQLite, the URI for PostgreSQL).
std::pair<Backend, std::string> Parse(const std::string& uri) {
  static const std::regex kScheme("^([A-Za-z][A-Za-z0-9+.-]*):(.*)$");
  std::smatch m;
  if (!std::regex_match(uri, m, kScheme)) return {Backend::kSqlite, uri};
  if (m[1] == "sqlite") return {Backend::kSqlite, m[2].str()};
  if (m[1] == "postgresql" || m[1] == "postgres") return {Backend::kPostgres, uri};
  FailWithCode(ErrorKind::kConfig, "meta.unsupported_backend",
               "metastore '{}': unsupported backend '{}'\n  hint: use sqlite:PATH, a path to an "
               "SQLite file, or postgresql://USER@HOST/DB",
               Redact(uri), m[1].str());
}

}  // namespace

std::unique_ptr<SqlCore> Connect(const std::string& uri, bool migrate) {
  auto [backend, target] = Parse(uri);
  if (backend == Backend::kSqlite) {
    return std::make_unique<SqlCore>(ConnectSqlite(target), std::make_unique<SqliteDialect>(),
                                     migrate);
  }
  return std::make_unique<SqlCore>(ConnectPostgres(target), std::make_unique<PostgresDialect>(),
                                   migrate);
}

namespace {

SchemaState Read(SqlCore& core, int applied) {
  return {std::string(core.dialect().name()),
          core.where(),
          true,
          core.schema_version(),
          core.newest_version(),
          applied};
}

}  // namespace

std::unique_ptr<SqlMetastore> SqlMetastore::Open(const std::string& uri) {
  return std::make_unique<SqlMetastore>(Connect(uri, true));
}

std::unique_ptr<Metastore> Open(const std::string& uri) { return SqlMetastore::Open(uri); }

SchemaState ReadSchema(const std::string& uri) {
  auto [backend, target] = Parse(uri);
  if (backend == Backend::kSqlite && !fs::exists(target)) {
    return {"sqlite", target, false, 0, static_cast<int>(SqliteDialect().Migrations().size()), 0};
  }
  auto core = Connect(uri, false);
  return Read(*core, 0);
}

SchemaState MigrateSchema(const std::string& uri) {
  int before = ReadSchema(uri).version;
  auto core = Connect(uri, true);
  int after = core->schema_version();
  return Read(*core, after - before);
}

}  // namespace sluice::meta
