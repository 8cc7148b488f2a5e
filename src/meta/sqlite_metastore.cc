#include "meta/sqlite_metastore.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"

namespace sluice::meta {

namespace {

// Versioned migrations: entry i brings the schema from version i to i+1. Never edit an entry
// that has shipped; append a new one.
const char* const kMigrations[] = {
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
};

}  // namespace

class SqliteMetastore::Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      Fail(ErrorKind::kInternal, "metastore: cannot prepare '{}': {}", sql, sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindReal(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // Steps once; true while a row is available.
  bool Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(ErrorKind::kIo, "metastore: {}", sqlite3_errmsg(db_));
  }
  void Run() {
    while (Step()) {
    }
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) {
    auto p = sqlite3_column_text(stmt_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when an exception leaves the scope.
class SqliteMetastore::Tx {
 public:
  explicit Tx(SqliteMetastore& m) : m_(m) { m_.Exec("BEGIN IMMEDIATE"); }
  ~Tx() {
    if (!done_) sqlite3_exec(m_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void Commit() {
    m_.Exec("COMMIT");
    done_ = true;
  }

 private:
  SqliteMetastore& m_;
  bool done_ = false;
};

SqliteMetastore::SqliteMetastore(const fs::path& path) : path_(path.string()) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (sqlite3_open_v2(path_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    Fail(ErrorKind::kIo, "cannot open the metastore {}: {}", path_, message);
  }
  sqlite3_busy_timeout(db_, 10000);
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA synchronous=NORMAL");
  Exec("PRAGMA foreign_keys=ON");
  Migrate();
}

SqliteMetastore::~SqliteMetastore() { sqlite3_close(db_); }

void SqliteMetastore::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    Fail(ErrorKind::kIo, "metastore {}: {}", path_, message);
  }
}

int SqliteMetastore::schema_version() {
  Stmt s(db_, "PRAGMA user_version");
  s.Step();
  return static_cast<int>(s.Int(0));
}

void SqliteMetastore::Migrate() {
  const int target = static_cast<int>(std::size(kMigrations));
  if (schema_version() >= target) return;
  Tx tx(*this);
  int current = schema_version();  // re-read under the write lock: another process may have won
  if (current > target) {
    Fail(ErrorKind::kIo, "the metastore {} has schema version {}, newer than this sluice ({})",
         path_, current, target);
  }
  for (int v = current; v < target; ++v) Exec(kMigrations[v]);
  Exec(fmt::format("PRAGMA user_version = {}", target));
  tx.Commit();
}

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

std::vector<Table> SqliteMetastore::ListTables() {
  std::lock_guard lock(mu_);
  std::vector<Table> out;
  {
    Stmt s(db_, std::string(kTableColumns) + " ORDER BY db, name");
    while (s.Step()) out.push_back(ReadTable(s));
  }
  return out;
}

std::optional<Table> SqliteMetastore::GetTable(const std::string& db, const std::string& name) {
  std::optional<Table> out;
  {
    std::lock_guard lock(mu_);
    Stmt s(db_, std::string(kTableColumns) + " WHERE db = ? AND name = ?");
    s.Bind(1, db).Bind(2, name);
    if (s.Step()) out = ReadTable(s);
  }
  if (out) out->columns = TableColumns(out->id, out->version);
  return out;
}

std::vector<Column> SqliteMetastore::TableColumns(int64_t table_id, int64_t version) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT name, type, is_partition FROM columns WHERE table_id = ? AND version = "
         "(SELECT max(version) FROM columns WHERE table_id = ?1 AND (?2 = 0 OR version <= ?2)) "
         "ORDER BY position");
  s.Bind(1, table_id).Bind(2, version);
  std::vector<Column> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2) != 0});
  return out;
}

std::vector<TableFile> SqliteMetastore::TableFiles(int64_t table_id, int64_t version,
                                                   bool include_quarantined) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "WITH v AS (SELECT CASE WHEN ?2 = 0 THEN current_version ELSE ?2 END AS v "
         "           FROM tables WHERE id = ?1) "
         "SELECT key, size, partition, rows, status, reason, columns FROM table_files, v "
         "WHERE table_id = ?1 AND added_version <= v.v "
         "  AND (removed_version IS NULL OR removed_version > v.v) "
         "  AND (status = 'active' OR ?3) ORDER BY key");
  s.Bind(1, table_id).Bind(2, version).Bind(3, include_quarantined ? 1 : 0);
  std::vector<TableFile> out;
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Text(2), s.Int(3), s.Text(4),
                   s.Text(5), s.Text(6)});
  }
  return out;
}

std::vector<TableVersion> SqliteMetastore::TableVersions(int64_t table_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT version, created_ms, coalesce(run_id, 0), change, "
         "  (SELECT count(*) FROM table_files f WHERE f.table_id = v.table_id "
         "   AND f.status = 'active' AND f.added_version <= v.version "
         "   AND (f.removed_version IS NULL OR f.removed_version > v.version)) "
         "FROM table_versions v WHERE table_id = ? ORDER BY version");
  s.Bind(1, table_id);
  std::vector<TableVersion> out;
  while (s.Step()) out.push_back({s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Int(4)});
  return out;
}

int64_t SqliteMetastore::StartRun(const std::string& kind, const std::string& name,
                                  const std::string& trigger) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, owner) "
         "VALUES (?, ?, 'running', ?, ?, ?, ?)");
  int64_t now = NowMs();
  s.Bind(1, kind).Bind(2, name).Bind(3, trigger).Bind(4, now).Bind(5, now);
  s.Bind(6, ProcessOwner());
  s.Run();
  return sqlite3_last_insert_rowid(db_);
}

void SqliteMetastore::WriteRunLocked(const Run& run, const std::vector<RunStep>& steps,
                                     const std::vector<CheckResult>& checks) {
  Stmt s(db_,
         "UPDATE runs SET status = ?, ended_ms = ?, rows_in = ?, rows_out = ?, "
         "rows_quarantined = ?, files_read = ?, error = ?, details = ? WHERE id = ?");
  s.Bind(1, run.status).Bind(2, run.ended_ms ? run.ended_ms : NowMs()).Bind(3, run.rows_in);
  s.Bind(4, run.rows_out).Bind(5, run.rows_quarantined).Bind(6, run.files_read);
  s.Bind(7, run.error).Bind(8, run.details.empty() ? "{}" : run.details).Bind(9, run.id);
  s.Run();
  for (const auto& step : steps) {
    Stmt st(db_,
            "INSERT OR REPLACE INTO run_steps (run_id, seq, name, status, started_ms, ended_ms, "
            "rows, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(1, run.id).Bind(2, step.seq).Bind(3, step.name).Bind(4, step.status);
    st.Bind(5, step.started_ms).Bind(6, step.ended_ms).Bind(7, step.rows).Bind(8, step.error);
    st.Run();
  }
  int seq = 0;
  for (const auto& c : checks) {
    Stmt st(db_,
            "INSERT INTO check_results (run_id, seq, table_name, rule, on_fail, outcome, observed, "
            "failing_rows, message, value, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(1, run.id).Bind(2, seq++).Bind(3, c.table).Bind(4, c.rule).Bind(5, c.on_fail);
    st.Bind(6, c.outcome).Bind(7, c.observed).Bind(8, c.failing_rows).Bind(9, c.message);
    if (c.value) {
      st.BindReal(10, *c.value);
    } else {
      st.BindNull(10);
    }
    st.Bind(11, c.threshold);
    st.Run();
  }
}

void SqliteMetastore::ApplyTableChangeLocked(const TableChange& change, int64_t run_id) {
  int64_t now = NowMs();
  if (change.base_version) {
    Stmt s(db_, "SELECT current_version FROM tables WHERE db = ? AND name = ?");
    s.Bind(1, change.db).Bind(2, change.name);
    int64_t current = s.Step() ? s.Int(0) : 0;
    if (current != *change.base_version) {
      FailWithCode(ErrorKind::kIo, "publish.conflict",
                   "{}.{} moved to version {} while this run built on version {} (another run "
                   "published first); nothing of this run was published\n  hint: run it again "
                   "to build on the new version",
                   change.db, change.name, current, *change.base_version);
    }
  }
  {
    Stmt s(db_, "INSERT OR IGNORE INTO databases (name, created_ms) VALUES (?, ?)");
    s.Bind(1, change.db).Bind(2, now).Run();
  }
  {
    Stmt s(db_,
           "INSERT INTO tables (db, name, kind, format, options, created_ms, updated_ms) "
           "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (db, name) DO UPDATE SET "
           "kind = excluded.kind, format = excluded.format, options = excluded.options, "
           "updated_ms = excluded.updated_ms");
    s.Bind(1, change.db).Bind(2, change.name).Bind(3, change.kind).Bind(4, change.format);
    s.Bind(5, change.options.empty() ? "{}" : change.options).Bind(6, now).Bind(7, now).Run();
  }
  int64_t id = 0, version = 0;
  {
    Stmt s(db_, "SELECT id, current_version + 1 FROM tables WHERE db = ? AND name = ?");
    s.Bind(1, change.db).Bind(2, change.name);
    s.Step();
    id = s.Int(0);
    version = s.Int(1);
  }
  {
    Stmt s(db_, "UPDATE tables SET current_version = ? WHERE id = ?");
    s.Bind(1, version).Bind(2, id).Run();
  }
  {
    Stmt s(db_,
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
    Stmt s(db_,
           "INSERT INTO columns (table_id, version, position, name, type, is_partition) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, version).Bind(3, static_cast<int64_t>(i)).Bind(4, c.name);
    s.Bind(5, c.type).Bind(6, c.partition ? 1 : 0).Run();
  }
  if (change.remove_all) {
    Stmt s(db_,
           "UPDATE table_files SET removed_version = ? WHERE table_id = ? "
           "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Run();
  }
  for (const auto& key : change.removed) {
    Stmt s(db_,
           "UPDATE table_files SET removed_version = ? WHERE table_id = ? AND key = ? "
           "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Bind(3, key).Run();
  }
  for (const auto& f : change.added) {
    Stmt s(db_,
           "INSERT INTO table_files (table_id, key, size, partition, rows, status, reason, "
           "columns, added_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, f.key).Bind(3, static_cast<int64_t>(f.size)).Bind(4, f.partition);
    s.Bind(5, f.rows).Bind(6, f.status).Bind(7, f.reason).Bind(8, f.columns).Bind(9, version);
    s.Run();
  }
}

void SqliteMetastore::CommitRun(const RunCommit& commit) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  for (const auto& change : commit.tables) ApplyTableChangeLocked(change, commit.run.id);
  for (const auto& key : commit.bookmark_keys) {
    // A file another run processed since this one read the bookmarks: a lost race, named as
    // such (whatever the order in which the two runs read their table's version).
    Stmt seen(db_, "SELECT run_id FROM bookmarks WHERE job = ? AND key = ?");
    seen.Bind(1, commit.bookmark_job).Bind(2, key);
    if (seen.Step()) {
      FailWithCode(ErrorKind::kIo, "publish.conflict",
                   "job {}: run {} processed {} while this run was building on it; nothing of "
                   "this run was published\n  hint: run it again to process what is new",
                   commit.bookmark_job, seen.Int(0), key);
    }
    Stmt s(db_, "INSERT INTO bookmarks (job, key, run_id) VALUES (?, ?, ?)");
    s.Bind(1, commit.bookmark_job).Bind(2, key).Bind(3, commit.run.id).Run();
  }
  WriteRunLocked(commit.run, commit.steps, commit.checks);
  tx.Commit();
}

void SqliteMetastore::FinishRun(const Run& run, const std::vector<RunStep>& steps,
                                const std::vector<CheckResult>& checks) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  WriteRunLocked(run, steps, checks);
  tx.Commit();
}

namespace {
const char* kRunColumns =
    "SELECT id, kind, name, status, trigger, started_ms, coalesce(ended_ms, 0), rows_in, "
    "rows_out, rows_quarantined, files_read, error, details, params, definition, "
    "coalesce(parent_run_id, 0), owner, cancel_requested, queued_ms FROM runs";
Run ReadRun(auto& s) {
  Run r;
  r.id = s.Int(0);
  r.kind = s.Text(1);
  r.name = s.Text(2);
  r.status = s.Text(3);
  r.trigger = s.Text(4);
  r.started_ms = s.Int(5);
  r.ended_ms = s.Int(6);
  r.rows_in = s.Int(7);
  r.rows_out = s.Int(8);
  r.rows_quarantined = s.Int(9);
  r.files_read = s.Int(10);
  r.error = s.Text(11);
  r.details = s.Text(12);
  r.params = s.Text(13);
  r.definition = s.Text(14);
  r.parent_run_id = s.Int(15);
  r.owner = s.Text(16);
  r.cancel_requested = s.Int(17) != 0;
  r.queued_ms = s.Int(18);
  return r;
}
}  // namespace

std::vector<Run> SqliteMetastore::ListRuns(const RunFilter& filter) {
  std::string sql = std::string(kRunColumns) + " WHERE 1 = 1";
  std::vector<std::string> texts;
  if (!filter.statuses.empty()) {
    sql += " AND status IN (" + Join(std::vector<std::string>(filter.statuses.size(), "?"), ", ") +
           ")";
    texts.insert(texts.end(), filter.statuses.begin(), filter.statuses.end());
  }
  for (auto [column, value] : {std::pair{"kind", &filter.kind}, std::pair{"name", &filter.name},
                               std::pair{"trigger", &filter.trigger}}) {
    if (value->empty()) continue;
    sql += fmt::format(" AND {} = ?", column);
    texts.push_back(*value);
  }
  if (filter.top_level) sql += " AND parent_run_id IS NULL";
  if (filter.before_id > 0) sql += fmt::format(" AND id < {}", filter.before_id);
  sql += fmt::format(" ORDER BY id DESC LIMIT {}", filter.limit);
  std::lock_guard lock(mu_);
  Stmt s(db_, sql);
  for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i + 1), texts[i]);
  std::vector<Run> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}

std::optional<Run> SqliteMetastore::GetRun(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, std::string(kRunColumns) + " WHERE id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadRun(s);
}

std::vector<RunStep> SqliteMetastore::RunSteps(int64_t run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT seq, name, status, started_ms, coalesce(ended_ms, 0), rows, error FROM "
         "run_steps WHERE run_id = ? ORDER BY seq");
  s.Bind(1, run_id);
  std::vector<RunStep> out;
  while (s.Step()) {
    out.push_back({run_id, static_cast<int>(s.Int(0)), s.Text(1), s.Text(2), s.Int(3), s.Int(4),
                   s.Int(5), s.Text(6)});
  }
  return out;
}

std::vector<CheckResult> SqliteMetastore::CheckResults(int64_t run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT table_name, rule, on_fail, outcome, observed, failing_rows, message, value, "
         "threshold FROM check_results WHERE run_id = ? ORDER BY seq");
  s.Bind(1, run_id);
  std::vector<CheckResult> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5), s.Text(6)});
    if (!s.IsNull(7)) out.back().value = s.Double(7);
    out.back().threshold = s.Text(8);
  }
  return out;
}

std::set<std::string> SqliteMetastore::Bookmarks(const std::string& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT key FROM bookmarks WHERE job = ?");
  s.Bind(1, job);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

std::optional<LandedFile> SqliteMetastore::FindLanded(const std::string& source,
                                                      const std::string& sha256) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT key, size, landed_ms FROM landed_files WHERE source = ? AND sha256 = ? "
         "ORDER BY landed_ms LIMIT 1");
  s.Bind(1, source).Bind(2, sha256);
  if (!s.Step()) return std::nullopt;
  return LandedFile{source, s.Text(0), sha256, static_cast<uint64_t>(s.Int(1)), s.Int(2)};
}

void SqliteMetastore::RecordLanded(const LandedFile& file) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO landed_files (source, key, sha256, size, landed_ms) VALUES (?, ?, ?, ?, ?) "
         "ON CONFLICT (source, key) DO UPDATE SET sha256 = excluded.sha256, "
         "size = excluded.size, landed_ms = excluded.landed_ms");
  s.Bind(1, file.source).Bind(2, file.key).Bind(3, file.sha256);
  s.Bind(4, static_cast<int64_t>(file.size)).Bind(5, file.landed_ms).Run();
}

int64_t SqliteMetastore::InsertQueuedLocked(const Run& run) {
  Stmt s(db_,
         "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, params, "
         "definition, parent_run_id) VALUES (?, ?, 'queued', ?, 0, ?, ?, ?, ?)");
  s.Bind(1, run.kind).Bind(2, run.name).Bind(3, run.trigger);
  s.Bind(4, run.queued_ms ? run.queued_ms : NowMs())
      .Bind(5, run.params.empty() ? "{}" : run.params);
  s.Bind(6, run.definition);
  if (run.parent_run_id) {
    s.Bind(7, run.parent_run_id);
  } else {
    s.BindNull(7);
  }
  s.Run();
  return sqlite3_last_insert_rowid(db_);
}

int64_t SqliteMetastore::EnqueueRun(const Run& run) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  int64_t id = InsertQueuedLocked(run);
  tx.Commit();
  return id;
}

int64_t SqliteMetastore::EnqueueArrivals(
    const std::string& workflow, const std::vector<std::string>& keys, Run run,
    const std::function<std::string(const std::vector<std::string>&)>& params) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  std::vector<std::string> fresh;
  std::set<std::string> unique(keys.begin(), keys.end());
  for (const auto& key : unique) {
    Stmt s(db_, "SELECT 1 FROM arrivals WHERE workflow = ? AND key = ?");
    s.Bind(1, workflow).Bind(2, key);
    if (!s.Step()) fresh.push_back(key);
  }
  if (fresh.empty()) return 0;
  run.params = params(fresh);
  int64_t id = InsertQueuedLocked(run);
  int64_t now = NowMs();
  for (const auto& key : fresh) {
    Stmt s(db_,
           "INSERT OR IGNORE INTO arrivals (workflow, key, run_id, seen_ms) VALUES (?, ?, ?, ?)");
    s.Bind(1, workflow).Bind(2, key).Bind(3, id).Bind(4, now).Run();
  }
  tx.Commit();
  return id;
}

std::set<std::string> SqliteMetastore::ArrivedKeys(const std::string& workflow) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT key FROM arrivals WHERE workflow = ?");
  s.Bind(1, workflow);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

bool SqliteMetastore::ClaimRun(int64_t id, const std::string& owner) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "UPDATE runs SET status = 'running', owner = ?, "
         "started_ms = CASE WHEN started_ms = 0 THEN ? ELSE started_ms END "
         "WHERE id = ? AND status = 'queued'");
  s.Bind(1, owner).Bind(2, NowMs()).Bind(3, id).Run();
  return sqlite3_changes(db_) == 1;
}

void SqliteMetastore::RequeueRun(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE runs SET status = 'queued', owner = '' WHERE id = ? AND status = 'running'");
  s.Bind(1, id).Run();
}

std::optional<Run> SqliteMetastore::RequestCancel(int64_t id) {
  {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    Stmt q(db_,
           "UPDATE runs SET status = 'cancelled', ended_ms = ?, error = 'cancelled before it "
           "started' WHERE id = ? AND status = 'queued'");
    q.Bind(1, NowMs()).Bind(2, id).Run();
    Stmt r(db_, "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status = 'running'");
    r.Bind(1, id).Run();
    tx.Commit();
  }
  return GetRun(id);
}

bool SqliteMetastore::RedriveRun(int64_t id) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  Stmt r(db_,
         "UPDATE runs SET status = 'queued', owner = '', ended_ms = NULL, error = '', "
         "cancel_requested = 0 WHERE id = ? AND status IN ('failed', 'cancelled')");
  r.Bind(1, id).Run();
  if (sqlite3_changes(db_) != 1) return false;
  // Containers pick up where their children were; leaves get a new attempt.
  Stmt c(db_,
         "UPDATE steps SET status = 'running' WHERE run_id = ? AND status IN ('failed', "
         "'cancelled') AND kind IN ('parallel', 'choice', 'map', 'workflow')");
  c.Bind(1, id).Run();
  Stmt l(db_,
         "UPDATE steps SET status = 'retrying' WHERE run_id = ? AND status IN ('failed', "
         "'cancelled')");
  l.Bind(1, id).Run();
  tx.Commit();
  return true;
}

std::vector<StepState> SqliteMetastore::Steps(int64_t run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT path, kind, status, attempts, started_ms, coalesce(ended_ms, 0), output, "
         "error_kind, error FROM steps WHERE run_id = ? ORDER BY started_ms, rowid");
  s.Bind(1, run_id);
  std::vector<StepState> out;
  while (s.Step()) {
    out.push_back({run_id, s.Text(0), s.Text(1), s.Text(2), static_cast<int>(s.Int(3)), s.Int(4),
                   s.Int(5), s.Text(6), s.Text(7), s.Text(8)});
  }
  return out;
}

std::vector<Attempt> SqliteMetastore::Attempts(int64_t run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT path, attempt, status, started_ms, coalesce(ended_ms, 0), error_kind, error, "
         "coalesce(child_run_id, 0) FROM attempts WHERE run_id = ? ORDER BY started_ms, rowid");
  s.Bind(1, run_id);
  std::vector<Attempt> out;
  while (s.Step()) {
    out.push_back({run_id, s.Text(0), static_cast<int>(s.Int(1)), s.Text(2), s.Int(3), s.Int(4),
                   s.Text(5), s.Text(6), s.Int(7)});
  }
  return out;
}

void SqliteMetastore::BeginAttempt(int64_t run_id, const std::string& path, const std::string& kind,
                                   int attempt) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  int64_t now = NowMs();
  Stmt st(db_,
          "INSERT INTO steps (run_id, path, kind, status, attempts, started_ms) "
          "VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (run_id, path) DO UPDATE SET "
          "status = 'running', attempts = excluded.attempts, ended_ms = NULL");
  st.Bind(1, run_id).Bind(2, path).Bind(3, kind).Bind(4, attempt).Bind(5, now).Run();
  Stmt at(db_,
          "INSERT OR REPLACE INTO attempts (run_id, path, attempt, status, started_ms) "
          "VALUES (?, ?, ?, 'running', ?)");
  at.Bind(1, run_id).Bind(2, path).Bind(3, attempt).Bind(4, now).Run();
  tx.Commit();
}

void SqliteMetastore::SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                                      int64_t child_run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE attempts SET child_run_id = ? WHERE run_id = ? AND path = ? AND attempt = ?");
  s.Bind(1, child_run_id).Bind(2, run_id).Bind(3, path).Bind(4, attempt).Run();
}

void SqliteMetastore::EndAttempt(const Attempt& a, const std::string& step_status,
                                 const std::string& output) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  int64_t now = a.ended_ms ? a.ended_ms : NowMs();
  Stmt at(db_,
          "UPDATE attempts SET status = ?, ended_ms = ?, error_kind = ?, error = ? "
          "WHERE run_id = ? AND path = ? AND attempt = ?");
  at.Bind(1, a.status).Bind(2, now).Bind(3, a.error_kind).Bind(4, a.error);
  at.Bind(5, a.run_id).Bind(6, a.path).Bind(7, a.attempt).Run();
  bool done = step_status != "running" && step_status != "retrying" && step_status != "catching";
  Stmt st(db_,
          "UPDATE steps SET status = ?, ended_ms = ?, output = ?, error_kind = ?, error = ? "
          "WHERE run_id = ? AND path = ?");
  st.Bind(1, step_status);
  if (done) {
    st.Bind(2, now);
  } else {
    st.BindNull(2);
  }
  st.Bind(3, output.empty() ? "{}" : output).Bind(4, a.error_kind).Bind(5, a.error);
  st.Bind(6, a.run_id).Bind(7, a.path).Run();
  tx.Commit();
}

int64_t SqliteMetastore::AppendLog(int64_t run_id, const std::string& level,
                                   const std::string& step, const std::string& message) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO run_logs (run_id, time_ms, level, step, message) VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, run_id).Bind(2, NowMs()).Bind(3, level).Bind(4, step).Bind(5, message).Run();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<LogLine> SqliteMetastore::Logs(int64_t run_id, int64_t after_id, size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT id, time_ms, level, step, message FROM run_logs WHERE run_id = ? AND id > ? "
         "ORDER BY id LIMIT ?");
  s.Bind(1, run_id).Bind(2, after_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<LogLine> out;
  while (s.Step()) out.push_back({s.Int(0), run_id, s.Int(1), s.Text(2), s.Text(3), s.Text(4)});
  return out;
}

std::optional<int64_t> SqliteMetastore::ScheduleMark(const std::string& workflow,
                                                     const std::string& trigger) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT fire_ms FROM schedule_marks WHERE workflow = ? AND trigger = ?");
  s.Bind(1, workflow).Bind(2, trigger);
  if (!s.Step()) return std::nullopt;
  return s.Int(0);
}

void SqliteMetastore::SetScheduleMark(const std::string& workflow, const std::string& trigger,
                                      int64_t fire_ms) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT OR REPLACE INTO schedule_marks (workflow, trigger, fire_ms) VALUES (?, ?, ?)");
  s.Bind(1, workflow).Bind(2, trigger).Bind(3, fire_ms).Run();
}

std::vector<double> SqliteMetastore::RuleHistory(const std::string& table, const std::string& rule,
                                                 size_t n, const std::string& kind) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT c.value FROM check_results c JOIN runs r ON r.id = c.run_id WHERE "
         "c.table_name = ? AND c.rule = ? AND c.value IS NOT NULL AND r.status = 'succeeded' "
         "AND r.kind = ? ORDER BY c.run_id DESC LIMIT ?");
  s.Bind(1, table).Bind(2, rule).Bind(3, kind).Bind(4, static_cast<int64_t>(n));
  std::vector<double> out;
  while (s.Step()) out.push_back(s.Double(0));
  return out;
}

std::vector<CheckHistoryEntry> SqliteMetastore::CheckHistory(const std::string& table,
                                                             size_t runs) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT c.run_id, r.started_ms, c.rule, c.on_fail, c.outcome, c.observed, c.value, "
         "c.threshold FROM check_results c JOIN runs r ON r.id = c.run_id WHERE c.table_name = ? "
         "AND c.run_id IN (SELECT DISTINCT run_id FROM check_results WHERE table_name = ? ORDER "
         "BY run_id DESC LIMIT ?) ORDER BY c.run_id, c.seq");
  s.Bind(1, table).Bind(2, table).Bind(3, static_cast<int64_t>(runs));
  std::vector<CheckHistoryEntry> out;
  while (s.Step()) {
    CheckHistoryEntry e{s.Int(0), s.Int(1), {}};
    e.result.table = table;
    e.result.rule = s.Text(2);
    e.result.on_fail = s.Text(3);
    e.result.outcome = s.Text(4);
    e.result.observed = s.Text(5);
    if (!s.IsNull(6)) e.result.value = s.Double(6);
    e.result.threshold = s.Text(7);
    out.push_back(std::move(e));
  }
  return out;
}

void SqliteMetastore::SetColumnTags(int64_t table_id,
                                    const std::map<std::string, std::string>& tags) {
  std::lock_guard lock(mu_);
  Tx tx(*this);
  for (const auto& [column, json] : tags) {
    Stmt s(db_,
           "INSERT OR REPLACE INTO column_tags (table_id, column_name, tags, updated_ms) "
           "VALUES (?, ?, ?, ?)");
    s.Bind(1, table_id).Bind(2, column).Bind(3, json).Bind(4, NowMs()).Run();
  }
  tx.Commit();
}

std::map<std::string, std::string> SqliteMetastore::ColumnTags(int64_t table_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT column_name, tags FROM column_tags WHERE table_id = ?");
  s.Bind(1, table_id);
  std::map<std::string, std::string> out;
  while (s.Step()) out[s.Text(0)] = s.Text(1);
  return out;
}

bool SqliteMetastore::CreateToken(const std::string& name, const std::string& hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO api_tokens (name, hash, created_ms) VALUES (?, ?, ?) "
         "ON CONFLICT (name) DO NOTHING");
  s.Bind(1, name).Bind(2, hash).Bind(3, NowMs()).Run();
  return sqlite3_changes(db_) == 1;
}

std::vector<ApiToken> SqliteMetastore::Tokens() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT name, hash, created_ms, last_used_ms FROM api_tokens ORDER BY name");
  std::vector<ApiToken> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Int(3)});
  return out;
}

bool SqliteMetastore::RevokeToken(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM api_tokens WHERE name = ?");
  s.Bind(1, name).Run();
  return sqlite3_changes(db_) == 1;
}

void SqliteMetastore::TouchToken(const std::string& name, int64_t now_ms) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE api_tokens SET last_used_ms = ? WHERE name = ?");
  s.Bind(1, now_ms).Bind(2, name).Run();
}

}  // namespace sluice::meta
