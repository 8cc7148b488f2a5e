#include "catalog/query.h"

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

engine::Result QueryReadOnly(engine::Connection& conn, meta::Metastore& metastore,
                             const lake::Store& store, const std::string& sql) {
  AttachTables(conn, metastore, store);
  std::string lake_root = store.ReadablePath("x");
  lake_root = lake_root.substr(0, lake_root.size() - 1);
  conn.Execute(fmt::format(
      "SET allowed_directories = [{}]; SET enable_external_access = false; "
      "SET lock_configuration = true;",
      SqlString(lake_root)));
  auto statements = conn.Inspect(sql);
  for (size_t i = 0; i < statements.size(); ++i) {
    const auto& s = statements[i];
    if (s.kind == engine::StatementKind::kOther) {
      Fail(ErrorKind::kUsage,
           "sluice query is read-only: {}{} statements are not allowed\n"
           "  hint: tables are written by jobs and models (`sluice run`); query them with SELECT",
           statements.size() > 1 ? fmt::format("statement {} is {}; ", i + 1, s.keyword) : "",
           s.keyword);
    }
  }
  return conn.Query(sql);
}

}  // namespace sluice::catalog
