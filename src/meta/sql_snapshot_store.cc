#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;

void SqlSnapshotStore::PutSnapshot(const std::string& hash, const std::string& manifest) {
  auto lock = core_.Lock();
  // Every run stores its snapshot: the usual case, a hash stored already, sends no manifest.
  Statement known(core_, "SELECT 1 FROM snapshots WHERE hash = ?");
  if (known.Bind(1, hash).Step()) return;
  Statement s(core_, "INSERT INTO snapshots (hash, manifest, created_ms) VALUES (?, ?, ?)" +
                         core_.dialect().Upsert("hash", {}));
  s.Bind(1, hash).Bind(2, manifest).Bind(3, NowMs()).Run();
}

std::optional<std::string> SqlSnapshotStore::GetSnapshot(const std::string& hash) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT manifest FROM snapshots WHERE hash = ?");
  s.Bind(1, hash);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}

}  // namespace sluice::meta
