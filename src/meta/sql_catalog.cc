#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

namespace {
Table ReadTable(auto& s) {
  Table t;
  t.id = s.Int(0);
  t.db = s.Text(1);
  t.name = s.Text(2);
  t.kind = s.Text(3);
  t.format = s.Text(4);
  t.options = s.Text(5);
  t.version = s.Int(6);
  t.created_ms = s.Int(7);
  t.updated_ms = s.Int(8);
  return t;
}
const char* kTableColumns =
    "SELECT id, db, name, kind, format, options, current_version, created_ms, updated_ms "
    "FROM tables";
}  // namespace

std::vector<Table> SqlCatalog::ListTables() {
  auto lock = core_.Lock();
  std::vector<Table> out;
  {
    Statement s(core_, std::string(kTableColumns) + " ORDER BY db, name");
    while (s.Step()) out.push_back(ReadTable(s));
  }
  return out;
}

std::optional<Table> SqlCatalog::GetTable(const std::string& db, const std::string& name) {
  std::optional<Table> out;
  {
    auto lock = core_.Lock();
    Statement s(core_, std::string(kTableColumns) + " WHERE db = ? AND name = ?");
    s.Bind(1, db).Bind(2, name);
    if (s.Step()) out = ReadTable(s);
  }
  if (out) out->columns = TableColumns(out->id, out->version);
  return out;
}

std::vector<Column> SqlCatalog::TableColumns(int64_t table_id, int64_t version) {
  auto lock = core_.Lock();
  Statement s(
      core_,
      "SELECT name, type, is_partition FROM columns WHERE table_id = ? AND version = "
      "(SELECT max(version) FROM columns WHERE table_id = ?1 AND (?2 = 0 OR version <= ?2)) "
      "ORDER BY position");
  s.Bind(1, table_id).Bind(2, version);
  std::vector<Column> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2) != 0});
  return out;
}

std::vector<TableFile> SqlCatalog::TableFiles(int64_t table_id, int64_t version,
                                              bool include_quarantined) {
  auto lock = core_.Lock();
  Statement s(core_,
              "WITH v AS (SELECT CASE WHEN ?2 = 0 THEN current_version ELSE ?2 END AS v "
              "           FROM tables WHERE id = ?1) "
              "SELECT key, size, partition, rows, status, reason, columns FROM table_files, v "
              "WHERE table_id = ?1 AND added_version <= v.v "
              "  AND (removed_version IS NULL OR removed_version > v.v) "
              "  AND (status = " +
                  Sql(FileStatus::kActive) + " OR ?3 <> 0) ORDER BY key");
  s.Bind(1, table_id).Bind(2, version).Bind(3, include_quarantined ? 1 : 0);
  std::vector<TableFile> out;
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Text(2), s.Int(3),
                   ParseFileStatus(s.Text(4)), s.Text(5), s.Text(6)});
  }
  return out;
}

std::vector<TableVersion> SqlCatalog::TableVersions(int64_t table_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT version, created_ms, coalesce(run_id, 0), change, "
              "  (SELECT count(*) FROM table_files f WHERE f.table_id = v.table_id "
              "   AND f.status = " +
                  Sql(FileStatus::kActive) +
                  " AND f.added_version <= v.version "
                  "   AND (f.removed_version IS NULL OR f.removed_version > v.version)) "
                  "FROM table_versions v WHERE table_id = ? ORDER BY version");
  s.Bind(1, table_id);
  std::vector<TableVersion> out;
  while (s.Step()) out.push_back({s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Int(4)});
  return out;
}

void ApplyTableChange(SqlCore& core, const TableChange& change, int64_t run_id) {
  int64_t now = NowMs();
  if (change.base_version) {
    Statement s(core, std::string("SELECT current_version FROM tables WHERE db = ? AND name = ? ") +
                          std::string(core.dialect().LockRows(false)));
    s.Bind(1, change.db).Bind(2, change.name);
    int64_t current = s.Step() ? s.Int(0) : 0;
    if (current != *change.base_version) {
      FailWithCode(ErrorKind::kConflict, "publish.conflict",
                   "{}.{} moved to version {} while this run built on version {} (another run "
                   "published first); nothing of this run was published\n  hint: run it again "
                   "to build on the new version",
                   change.db, change.name, current, *change.base_version);
    }
  }
  {
    Statement s(core, "INSERT INTO databases (name, created_ms) VALUES (?, ?)" +
                          core.dialect().Upsert("name", {}));
    s.Bind(1, change.db).Bind(2, now).Run();
  }
  {
    Statement s(core,
                "INSERT INTO tables (db, name, kind, format, options, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (db, name) DO UPDATE SET "
                "kind = excluded.kind, format = excluded.format, options = excluded.options, "
                "updated_ms = excluded.updated_ms");
    s.Bind(1, change.db).Bind(2, change.name).Bind(3, change.kind).Bind(4, change.format);
    s.Bind(5, change.options.empty() ? "{}" : change.options).Bind(6, now).Bind(7, now).Run();
  }
  int64_t id = 0, version = 0;
  {
    Statement s(core, "SELECT id, current_version + 1 FROM tables WHERE db = ? AND name = ?");
    s.Bind(1, change.db).Bind(2, change.name);
    s.Step();
    id = s.Int(0);
    version = s.Int(1);
  }
  {
    Statement s(core, "UPDATE tables SET current_version = ? WHERE id = ?");
    s.Bind(1, version).Bind(2, id).Run();
  }
  {
    Statement s(core,
                "INSERT INTO table_versions (table_id, version, created_ms, run_id, change) "
                "VALUES (?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, version).Bind(3, now);
    if (run_id) {
      s.Bind(4, run_id);
    } else {
      s.BindNull(4);
    }
    s.Bind(5, change.change).Run();
  }
  for (size_t i = 0; i < change.columns.size(); ++i) {
    const auto& c = change.columns[i];
    Statement s(core,
                "INSERT INTO columns (table_id, version, position, name, type, is_partition) "
                "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, version).Bind(3, static_cast<int64_t>(i)).Bind(4, c.name);
    s.Bind(5, c.type).Bind(6, c.partition ? 1 : 0).Run();
  }
  if (change.remove_all) {
    Statement s(core,
                "UPDATE table_files SET removed_version = ? WHERE table_id = ? "
                "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Run();
  }
  for (const auto& key : change.removed) {
    Statement s(core,
                "UPDATE table_files SET removed_version = ? WHERE table_id = ? AND key = ? "
                "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Bind(3, key).Run();
  }
  for (const auto& f : change.added) {
    Statement s(core,
                "INSERT INTO table_files (table_id, key, size, partition, rows, status, reason, "
                "columns, added_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, f.key).Bind(3, static_cast<int64_t>(f.size)).Bind(4, f.partition);
    s.Bind(5, f.rows)
        .Bind(6, std::string(ToString(f.status)))
        .Bind(7, f.reason)
        .Bind(8, f.columns)
        .Bind(9, version);
    s.Run();
  }
}

void SqlCatalog::SetColumnTags(int64_t table_id, const std::map<std::string, std::string>& tags) {
  Transaction tx(core_);
  for (const auto& [column, json] : tags) {
    Statement s(
        core_,
        "INSERT INTO column_tags (table_id, column_name, tags, updated_ms) VALUES (?, ?, ?, ?)" +
            core_.dialect().Upsert("table_id, column_name", {"tags", "updated_ms"}));
    s.Bind(1, table_id).Bind(2, column).Bind(3, json).Bind(4, NowMs()).Run();
  }
  tx.Commit();
}

std::map<std::string, std::string> SqlCatalog::ColumnTags(int64_t table_id) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT column_name, tags FROM column_tags WHERE table_id = ?");
  s.Bind(1, table_id);
  std::map<std::string, std::string> out;
  while (s.Step()) out[s.Text(0)] = s.Text(1);
  return out;
}

PrunedVersions SqlCatalog::PruneVersions(int64_t table_id, int64_t keep_from,
                                         const std::optional<std::string>& own_prefix, bool apply) {
  Transaction tx(core_);
  PrunedVersions out;
  Statement current(core_, "SELECT current_version FROM tables WHERE id = ?");
  current.Bind(1, table_id);
  if (!current.Step()) return out;
  keep_from = std::min(keep_from, current.Int(0));
  Statement versions(core_,
                     "SELECT version FROM table_versions WHERE table_id = ? AND version < ? "
                     "ORDER BY version");
  versions.Bind(1, table_id).Bind(2, keep_from);
  while (versions.Step()) out.versions.push_back(versions.Int(0));
  if (out.versions.empty()) return out;
  // Rows of files every kept version has left, under the table's own prefix, whose key no kept
  // row lists again (a key may rejoin a table under a later version).
  const std::string unlisted =
      "FROM table_files WHERE table_id = ?1 AND removed_version IS NOT NULL "
      "AND removed_version <= ?2 AND substr(key, 1, length(?3)) = ?3 AND key NOT IN (SELECT key "
      "FROM table_files WHERE table_id = ?1 AND (removed_version IS NULL OR removed_version > ?2))";
  if (own_prefix) {
    Statement files(core_, "SELECT key, size, partition, rows, status, reason, columns " +
                               unlisted + " ORDER BY key");
    files.Bind(1, table_id).Bind(2, keep_from).Bind(3, *own_prefix);
    while (files.Step()) {
      out.files.push_back({files.Text(0), static_cast<uint64_t>(files.Int(1)), files.Text(2),
                           files.Int(3), ParseFileStatus(files.Text(4)), files.Text(5),
                           files.Text(6)});
    }
  }
  if (!apply) return out;  // the transaction ends with nothing written
  if (own_prefix) {
    Statement s(core_, "DELETE " + unlisted);
    s.Bind(1, table_id).Bind(2, keep_from).Bind(3, *own_prefix).Run();
  }
  // Columns are recorded per version; a kept version reads the latest set at or before it.
  Statement columns(core_,
                    "DELETE FROM columns WHERE table_id = ?1 AND version < (SELECT max(version) "
                    "FROM columns WHERE table_id = ?1 AND version <= ?2)");
  columns.Bind(1, table_id).Bind(2, keep_from).Run();
  Statement drop(core_, "DELETE FROM table_versions WHERE table_id = ? AND version < ?");
  drop.Bind(1, table_id).Bind(2, keep_from).Run();
  tx.Commit();
  return out;
}

std::set<std::string> SqlCatalog::FileKeysUnder(const std::string& prefix) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT DISTINCT key FROM table_files WHERE substr(key, 1, length(?1)) = ?1");
  s.Bind(1, prefix);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

}  // namespace sluice::meta
