#include "meta/sql_metastore.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"

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
  // A scheme is a letter, then letters, digits, '+', '.' or '-', then ':' (RFC 3986); without
  // one the text is a path.
  size_t colon = uri.find(':');
  bool scheme =
      colon != std::string::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(uri[0])) &&
      std::all_of(uri.begin(), uri.begin() + colon, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '.' || c == '-';
      });
  if (!scheme) return {Backend::kSqlite, uri};
  std::string name = uri.substr(0, colon);
  if (name == "sqlite") return {Backend::kSqlite, uri.substr(colon + 1)};
  if (name == "postgresql" || name == "postgres") return {Backend::kPostgres, uri};
  FailWithCode(ErrorKind::kConfig, "meta.unsupported_backend",
               "metastore: unsupported backend '{}'\n  hint: use sqlite:PATH, a path to an "
               "SQLite file, or postgresql://USER@HOST/DB",
               name.size() > 40 ? name.substr(0, 40) + "..." : name);
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
  SchemaState state = Read(*core, 0);
  state.exists = state.version > 0;  // a database without Sluice's tables yet
  return state;
}

SchemaState MigrateSchema(const std::string& uri) {
  auto core = Connect(uri, true);
  return Read(*core, core->applied());
}

}  // namespace sluice::meta
