#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

std::optional<LandedFile> SqlLandingRegistry::FindLanded(const std::string& source,
                                                         const std::string& sha256) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT key, size, landed_ms FROM landed_files WHERE source = ? AND sha256 = ? "
              "ORDER BY landed_ms LIMIT 1");
  s.Bind(1, source).Bind(2, sha256);
  if (!s.Step()) return std::nullopt;
  return LandedFile{source, s.Text(0), sha256, static_cast<uint64_t>(s.Int(1)), s.Int(2)};
}

void SqlLandingRegistry::RecordLanded(const LandedFile& file) {
  auto lock = core_.Lock();
  Statement s(
      core_,
      "INSERT INTO landed_files (source, key, sha256, size, landed_ms) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (source, key) DO UPDATE SET sha256 = excluded.sha256, "
      "size = excluded.size, landed_ms = excluded.landed_ms");
  s.Bind(1, file.source).Bind(2, file.key).Bind(3, file.sha256);
  s.Bind(4, static_cast<int64_t>(file.size)).Bind(5, file.landed_ms).Run();
}

}  // namespace sluice::meta
