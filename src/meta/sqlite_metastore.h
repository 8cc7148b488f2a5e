#pragma once
#include <memory>

#include "common/files.h"
#include "meta/metastore.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

// The embedded metastore: every SQL store over one SQLite file in WAL mode, migrated to the
// newest schema on open.
class SqliteMetastore : public Metastore,
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
  explicit SqliteMetastore(const fs::path& path);

  // The schema version after migrations.
  int schema_version() { return core_->schema_version(); }

 private:
  explicit SqliteMetastore(std::unique_ptr<SqlCore> core);
  std::unique_ptr<SqlCore> core_;
};

}  // namespace sluice::meta
