#include "meta/dialect.h"

#include <fmt/format.h>

#include <cctype>
#include <regex>

#include "common/strings.h"

namespace sluice::meta {

std::string Dialect::Upsert(std::string_view keys,
                            const std::vector<std::string_view>& update_columns) const {
  if (update_columns.empty()) return fmt::format(" ON CONFLICT ({}) DO NOTHING", keys);
  std::vector<std::string> sets;
  for (auto c : update_columns) sets.push_back(fmt::format("{0} = excluded.{0}", c));
  return fmt::format(" ON CONFLICT ({}) DO UPDATE SET {}", keys, Join(sets, ", "));
}

std::string Dialect::Returning(std::string_view column) const {
  return fmt::format(" RETURNING {}", column);
}

namespace {

// Shipped with the PRAGMA user_version era: never edit, append.
const std::vector<std::string> kMigrations = {
    R"sql(
CREATE TABLE databases (name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
CREATE TABLE tables (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  db TEXT NOT NULL REFERENCES databases(name),
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  format TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}',
  current_version INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (db, name));
CREATE TABLE table_versions (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  run_id INTEGER,
  change TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (table_id, version));
CREATE TABLE columns (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  version INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  is_partition INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (table_id, version, position));
CREATE TABLE table_files (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  partition TEXT NOT NULL DEFAULT '',
  rows INTEGER NOT NULL DEFAULT -1,
  status TEXT NOT NULL DEFAULT 'active',
  reason TEXT NOT NULL DEFAULT '',
  columns TEXT NOT NULL DEFAULT '',
  added_version INTEGER NOT NULL,
  removed_version INTEGER,
  PRIMARY KEY (table_id, key));
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  rows_in INTEGER NOT NULL DEFAULT 0,
  rows_out INTEGER NOT NULL DEFAULT 0,
  rows_quarantined INTEGER NOT NULL DEFAULT 0,
  files_read INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}');
CREATE INDEX runs_by_name ON runs (kind, name, id);
CREATE TABLE run_steps (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  rows INTEGER NOT NULL DEFAULT -1,
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq));
CREATE TABLE bookmarks (
  job TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  PRIMARY KEY (job, key));
CREATE TABLE check_results (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  rule TEXT NOT NULL,
  on_fail TEXT NOT NULL,
  outcome TEXT NOT NULL,
  observed TEXT NOT NULL DEFAULT '',
  failing_rows INTEGER NOT NULL DEFAULT -1,
  message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq));
CREATE TABLE landed_files (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  landed_ms INTEGER NOT NULL,
  PRIMARY KEY (source, key));
CREATE INDEX landed_by_hash ON landed_files (source, sha256);
)sql",
    // Workflows: queued runs, steps and their attempts, run logs, arrivals, schedules.
    R"sql(
ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN definition TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN parent_run_id INTEGER;
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN queued_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_status ON runs (status, id);
CREATE TABLE steps (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  output TEXT NOT NULL DEFAULT '{}',
  error_kind TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, path));
CREATE TABLE attempts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  path TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  error_kind TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  child_run_id INTEGER,
  PRIMARY KEY (run_id, path, attempt));
CREATE TABLE run_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time_ms INTEGER NOT NULL,
  level TEXT NOT NULL,
  step TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL);
CREATE INDEX run_logs_by_run ON run_logs (run_id, id);
CREATE TABLE arrivals (
  workflow TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  seen_ms INTEGER NOT NULL,
  PRIMARY KEY (workflow, key));
CREATE TABLE schedule_marks (
  workflow TEXT NOT NULL,
  trigger TEXT NOT NULL,
  fire_ms INTEGER NOT NULL,
  PRIMARY KEY (workflow, trigger));
)sql",
    // Check results keep their figure as a number (dynamic thresholds) and their condition.
    R"sql(
ALTER TABLE check_results ADD COLUMN value REAL;
ALTER TABLE check_results ADD COLUMN threshold TEXT NOT NULL DEFAULT '';
CREATE INDEX check_results_by_rule ON check_results (table_name, rule, run_id);
)sql",
    // Sensitive-data tags per column (the latest detection), outside table versions.
    R"sql(
CREATE TABLE column_tags (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  column_name TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (table_id, column_name));
)sql",
    // API tokens of `sluice serve`: the SHA-256 of each secret, never the secret.
    R"sql(
CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_used_ms INTEGER NOT NULL DEFAULT 0);
)sql",
    // The definitions each run ran, content-addressed (project/snapshot.h); older runs keep ''.
    R"sql(
CREATE TABLE snapshots (
  hash TEXT PRIMARY KEY,
  manifest TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
ALTER TABLE runs ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';
)sql",
    // A key may join a table again after it left it (`sluice landing release`; `landing
    // remove`, then the same name landed again): a table's file is keyed by the version that
    // added it. Files taken out of landing: who, when, why, and where their bytes went.
    R"sql(
CREATE TABLE table_files_keyed_by_version (
  table_id INTEGER NOT NULL REFERENCES tables(id),
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  partition TEXT NOT NULL DEFAULT '',
  rows INTEGER NOT NULL DEFAULT -1,
  status TEXT NOT NULL DEFAULT 'active',
  reason TEXT NOT NULL DEFAULT '',
  columns TEXT NOT NULL DEFAULT '',
  added_version INTEGER NOT NULL,
  removed_version INTEGER,
  PRIMARY KEY (table_id, key, added_version));
INSERT INTO table_files_keyed_by_version (table_id, key, size, partition, rows, status, reason,
  columns, added_version, removed_version)
  SELECT table_id, key, size, partition, rows, status, reason, columns, added_version,
    removed_version FROM table_files;
DROP TABLE table_files;
ALTER TABLE table_files_keyed_by_version RENAME TO table_files;
CREATE TABLE landing_removals (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  sha256 TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,
  landed_ms INTEGER NOT NULL DEFAULT 0,
  removed_ms INTEGER NOT NULL,
  removed_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  moved_to TEXT NOT NULL);
CREATE INDEX landing_removals_by_source ON landing_removals (source, removed_ms);
)sql",
    // Extraction (meta/extract_state.h): each source's cursor, and the files of its runs until
    // they are in landing.
    R"sql(
CREATE TABLE extract_state (
  source TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE extract_files (
  staging_key TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  landing_key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE INDEX extract_files_by_source ON extract_files (source);
)sql",
};

}  // namespace

std::vector<std::string> Dialect::Migrations() const {
  std::vector<std::string> out;
  for (const auto& m : kMigrations) out.push_back(Ddl(m));
  return out;
}

std::string SqliteDialect::LegacyVersionWrite(int version) const {
  return fmt::format("PRAGMA user_version = {}", version);
}

std::string PostgresDialect::Placeholders(std::string_view sql) const {
  std::string out;
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      quote = c == quote ? 0 : quote;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      size_t digits = i + 1;
      while (digits < sql.size() && std::isdigit(static_cast<unsigned char>(sql[digits]))) {
        ++digits;
      }
      out += '$';
      if (digits > i + 1) {
        out.append(sql.substr(i + 1, digits - i - 1));
        i = digits - 1;
      } else {
        out += std::to_string(++next);
      }
      continue;
    }
    out += c;
  }
  return out;
}

std::string_view PostgresDialect::BeginWrite() const {
  // The key spells "sluice" in ASCII: one advisory lock per database for the metastore's
  // writers.
  return "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(127961165620581)";
}

std::string PostgresDialect::Ddl(std::string_view sql) const {
  static const std::regex kAutoIncrement(R"(\bINTEGER PRIMARY KEY AUTOINCREMENT\b)");
  static const std::regex kInteger(R"(\bINTEGER\b)");
  static const std::regex kText(R"(\bTEXT\b)");
  static const std::regex kReal(R"(\bREAL\b)");
  static const std::regex kCreate(R"(\bCREATE TABLE (\w+) \()");
  std::string out(sql);
  out = std::regex_replace(out, kAutoIncrement,
                           "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  out = std::regex_replace(out, kInteger, "BIGINT");
  out = std::regex_replace(out, kText, "TEXT COLLATE \"C\"");
  out = std::regex_replace(out, kReal, "DOUBLE PRECISION");
  return std::regex_replace(
      out, kCreate,
      "CREATE TABLE $1 (\n  insertion_order BIGINT GENERATED BY DEFAULT AS IDENTITY,");
}

std::vector<std::string> PostgresDialect::ResumeKeys(const std::string& table) const {
  // Every identity column of the table: id where it has one, insertion_order always. `table` is
  // one of the metastore's own tables (never user input).
  return {fmt::format(
      "DO $$DECLARE c text; BEGIN FOR c IN SELECT attname FROM pg_attribute WHERE attrelid = "
      "'{0}'::regclass AND attidentity <> '' LOOP EXECUTE format('SELECT setval("
      "pg_get_serial_sequence(%L, %L), coalesce((SELECT max(%I) FROM %I), 0) + 1, false)', "
      "'{0}', c, c, '{0}'); END LOOP; END$$",
      table)};
}

}  // namespace sluice::meta
