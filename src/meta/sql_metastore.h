#pragma once
#include <memory>
#include <string>

#include "common/files.h"
#include "meta/metastore.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

// Every SQL store over one SqlCore: one database, migrated to the newest schema on open.
class SqlMetastore : public Metastore,
                     public SqlCatalog,
                     public SqlRunLog,
                     public SqlWorkQueue,
                     public SqlWorkflowState,
                     public SqlTriggers,
                     public SqlPublisher,
                     public SqlAccessStore,
                     public SqlLandingRegistry,
                     public SqlExtractState,
                     public SqlQualityHistory,
                     public SqlSnapshotStore {
 public:
  explicit SqlMetastore(std::unique_ptr<SqlCore> core);
  // The metastore at `uri` (meta::Open's forms), or Error(kConfig) meta.unsupported_backend.
  static std::unique_ptr<SqlMetastore> Open(const std::string& uri);

  // The schema version after migrations.
  int schema_version() { return core_->schema_version(); }
  // The database's dialect: "sqlite", "postgresql".
  std::string_view dialect() const { return core_->dialect().name(); }
  const std::string& where() const { return core_->where(); }

 private:
  std::unique_ptr<SqlCore> core_;
};

// The SQL core of the metastore at `uri` (meta::Open's forms), migrated unless `migrate` is
// false; Error(kConfig) meta.unsupported_backend for another scheme.
std::unique_ptr<SqlCore> Connect(const std::string& uri, bool migrate);

// The embedded metastore: one SQLite file in WAL mode.
class SqliteMetastore : public SqlMetastore {
 public:
  explicit SqliteMetastore(const fs::path& path);
};

}  // namespace sluice::meta
