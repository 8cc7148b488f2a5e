#include "meta/sqlite_metastore.h"

#include <regex>

#include "common/error.h"

namespace sluice::meta {

SqliteMetastore::SqliteMetastore(const fs::path& path)
    : SqliteMetastore(std::make_unique<SqlCore>(path, std::make_unique<SqliteDialect>())) {}

SqliteMetastore::SqliteMetastore(std::unique_ptr<SqlCore> core)
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

std::unique_ptr<Metastore> Open(const std::string& uri) {
  static const std::regex kScheme("^([A-Za-z][A-Za-z0-9+.-]*):(.*)$");
  std::smatch m;
  if (!std::regex_match(uri, m, kScheme)) return std::make_unique<SqliteMetastore>(uri);
  if (m[1] == "sqlite") return std::make_unique<SqliteMetastore>(m[2].str());
  FailWithCode(ErrorKind::kConfig, "meta.unsupported_backend",
               "metastore '{}': unsupported backend '{}'\n  hint: use sqlite:PATH or a path to an "
               "SQLite file",
               uri, m[1].str());
}

}  // namespace sluice::meta
