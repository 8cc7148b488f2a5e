#include "meta/sqlite_metastore.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;
using Transaction = SqlCore::Transaction;

SqliteMetastore::SqliteMetastore(const fs::path& path)
    : core_(path, std::make_unique<SqliteDialect>()) {}

int SqliteMetastore::schema_version() { return core_.schema_version(); }

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
  auto lock = core_.Lock();
  std::vector<Table> out;
  {
    Statement s(core_, std::string(kTableColumns) + " ORDER BY db, name");
    while (s.Step()) out.push_back(ReadTable(s));
  }
  return out;
}

std::optional<Table> SqliteMetastore::GetTable(const std::string& db, const std::string& name) {
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

std::vector<Column> SqliteMetastore::TableColumns(int64_t table_id, int64_t version) {
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

std::vector<TableFile> SqliteMetastore::TableFiles(int64_t table_id, int64_t version,
                                                   bool include_quarantined) {
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(core_,
              "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, owner) "
              "VALUES (?, ?, 'running', ?, ?, ?, ?)" +
                  core_.dialect().Returning("id"));
  int64_t now = NowMs();
  s.Bind(1, kind).Bind(2, name).Bind(3, trigger).Bind(4, now).Bind(5, now);
  s.Bind(6, ProcessOwner());
  s.Step();
  return s.Int(0);
}

void SqliteMetastore::WriteRunLocked(const Run& run, const std::vector<RunStep>& steps,
                                     const std::vector<CheckResult>& checks) {
  Statement s(core_,
              "UPDATE runs SET status = ?, ended_ms = ?, rows_in = ?, rows_out = ?, "
              "rows_quarantined = ?, files_read = ?, error = ?, details = ? WHERE id = ?");
  s.Bind(1, run.status).Bind(2, run.ended_ms ? run.ended_ms : NowMs()).Bind(3, run.rows_in);
  s.Bind(4, run.rows_out).Bind(5, run.rows_quarantined).Bind(6, run.files_read);
  s.Bind(7, run.error).Bind(8, run.details.empty() ? "{}" : run.details).Bind(9, run.id);
  s.Run();
  for (const auto& step : steps) {
    Statement st(core_,
                 "INSERT INTO run_steps (run_id, seq, name, status, started_ms, ended_ms, rows, "
                 "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" +
                     core_.dialect().Upsert("run_id, seq", {"name", "status", "started_ms",
                                                            "ended_ms", "rows", "error"}));
    st.Bind(1, run.id).Bind(2, step.seq).Bind(3, step.name).Bind(4, step.status);
    st.Bind(5, step.started_ms).Bind(6, step.ended_ms).Bind(7, step.rows).Bind(8, step.error);
    st.Run();
  }
  int seq = 0;
  for (const auto& c : checks) {
    Statement st(
        core_,
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
    Statement s(core_,
                std::string("SELECT current_version FROM tables WHERE db = ? AND name = ? ") +
                    std::string(core_.dialect().LockRows(false)));
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
    Statement s(core_, "INSERT INTO databases (name, created_ms) VALUES (?, ?)" +
                           core_.dialect().Upsert("name", {}));
    s.Bind(1, change.db).Bind(2, now).Run();
  }
  {
    Statement s(core_,
                "INSERT INTO tables (db, name, kind, format, options, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (db, name) DO UPDATE SET "
                "kind = excluded.kind, format = excluded.format, options = excluded.options, "
                "updated_ms = excluded.updated_ms");
    s.Bind(1, change.db).Bind(2, change.name).Bind(3, change.kind).Bind(4, change.format);
    s.Bind(5, change.options.empty() ? "{}" : change.options).Bind(6, now).Bind(7, now).Run();
  }
  int64_t id = 0, version = 0;
  {
    Statement s(core_, "SELECT id, current_version + 1 FROM tables WHERE db = ? AND name = ?");
    s.Bind(1, change.db).Bind(2, change.name);
    s.Step();
    id = s.Int(0);
    version = s.Int(1);
  }
  {
    Statement s(core_, "UPDATE tables SET current_version = ? WHERE id = ?");
    s.Bind(1, version).Bind(2, id).Run();
  }
  {
    Statement s(core_,
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
    Statement s(core_,
                "INSERT INTO columns (table_id, version, position, name, type, is_partition) "
                "VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, version).Bind(3, static_cast<int64_t>(i)).Bind(4, c.name);
    s.Bind(5, c.type).Bind(6, c.partition ? 1 : 0).Run();
  }
  if (change.remove_all) {
    Statement s(core_,
                "UPDATE table_files SET removed_version = ? WHERE table_id = ? "
                "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Run();
  }
  for (const auto& key : change.removed) {
    Statement s(core_,
                "UPDATE table_files SET removed_version = ? WHERE table_id = ? AND key = ? "
                "AND removed_version IS NULL");
    s.Bind(1, version).Bind(2, id).Bind(3, key).Run();
  }
  for (const auto& f : change.added) {
    Statement s(core_,
                "INSERT INTO table_files (table_id, key, size, partition, rows, status, reason, "
                "columns, added_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(1, id).Bind(2, f.key).Bind(3, static_cast<int64_t>(f.size)).Bind(4, f.partition);
    s.Bind(5, f.rows).Bind(6, f.status).Bind(7, f.reason).Bind(8, f.columns).Bind(9, version);
    s.Run();
  }
}

void SqliteMetastore::CommitRun(const RunCommit& commit) {
  Transaction tx(core_);
  for (const auto& change : commit.tables) ApplyTableChangeLocked(change, commit.run.id);
  for (const auto& key : commit.bookmark_keys) {
    // A file another run processed since this one read the bookmarks: a lost race, named as
    // such (whatever the order in which the two runs read their table's version).
    Statement seen(core_, "SELECT run_id FROM bookmarks WHERE job = ? AND key = ?");
    seen.Bind(1, commit.bookmark_job).Bind(2, key);
    if (seen.Step()) {
      FailWithCode(ErrorKind::kIo, "publish.conflict",
                   "job {}: run {} processed {} while this run was building on it; nothing of "
                   "this run was published\n  hint: run it again to process what is new",
                   commit.bookmark_job, seen.Int(0), key);
    }
    Statement s(core_, "INSERT INTO bookmarks (job, key, run_id) VALUES (?, ?, ?)");
    s.Bind(1, commit.bookmark_job).Bind(2, key).Bind(3, commit.run.id).Run();
  }
  WriteRunLocked(commit.run, commit.steps, commit.checks);
  tx.Commit();
}

void SqliteMetastore::FinishRun(const Run& run, const std::vector<RunStep>& steps,
                                const std::vector<CheckResult>& checks) {
  Transaction tx(core_);
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
  auto lock = core_.Lock();
  Statement s(core_, sql);
  for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i + 1), texts[i]);
  std::vector<Run> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}

std::optional<Run> SqliteMetastore::GetRun(int64_t id) {
  auto lock = core_.Lock();
  Statement s(core_, std::string(kRunColumns) + " WHERE id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadRun(s);
}

std::vector<RunStep> SqliteMetastore::RunSteps(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(core_, "SELECT key FROM bookmarks WHERE job = ?");
  s.Bind(1, job);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

std::optional<LandedFile> SqliteMetastore::FindLanded(const std::string& source,
                                                      const std::string& sha256) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT key, size, landed_ms FROM landed_files WHERE source = ? AND sha256 = ? "
              "ORDER BY landed_ms LIMIT 1");
  s.Bind(1, source).Bind(2, sha256);
  if (!s.Step()) return std::nullopt;
  return LandedFile{source, s.Text(0), sha256, static_cast<uint64_t>(s.Int(1)), s.Int(2)};
}

void SqliteMetastore::RecordLanded(const LandedFile& file) {
  auto lock = core_.Lock();
  Statement s(
      core_,
      "INSERT INTO landed_files (source, key, sha256, size, landed_ms) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (source, key) DO UPDATE SET sha256 = excluded.sha256, "
      "size = excluded.size, landed_ms = excluded.landed_ms");
  s.Bind(1, file.source).Bind(2, file.key).Bind(3, file.sha256);
  s.Bind(4, static_cast<int64_t>(file.size)).Bind(5, file.landed_ms).Run();
}

int64_t SqliteMetastore::InsertQueuedLocked(const Run& run) {
  Statement s(core_,
              "INSERT INTO runs (kind, name, status, trigger, started_ms, queued_ms, params, "
              "definition, parent_run_id) VALUES (?, ?, 'queued', ?, 0, ?, ?, ?, ?)" +
                  core_.dialect().Returning("id"));
  s.Bind(1, run.kind).Bind(2, run.name).Bind(3, run.trigger);
  s.Bind(4, run.queued_ms ? run.queued_ms : NowMs())
      .Bind(5, run.params.empty() ? "{}" : run.params);
  s.Bind(6, run.definition).BindOrNull(7, run.parent_run_id);
  s.Step();
  return s.Int(0);
}

int64_t SqliteMetastore::EnqueueRun(const Run& run) {
  Transaction tx(core_);
  int64_t id = InsertQueuedLocked(run);
  tx.Commit();
  return id;
}

int64_t SqliteMetastore::EnqueueArrivals(
    const std::string& workflow, const std::vector<std::string>& keys, Run run,
    const std::function<std::string(const std::vector<std::string>&)>& params) {
  Transaction tx(core_);
  std::vector<std::string> fresh;
  std::set<std::string> unique(keys.begin(), keys.end());
  for (const auto& key : unique) {
    Statement s(core_, "SELECT 1 FROM arrivals WHERE workflow = ? AND key = ?");
    s.Bind(1, workflow).Bind(2, key);
    if (!s.Step()) fresh.push_back(key);
  }
  if (fresh.empty()) return 0;
  run.params = params(fresh);
  int64_t id = InsertQueuedLocked(run);
  int64_t now = NowMs();
  for (const auto& key : fresh) {
    Statement s(core_, "INSERT INTO arrivals (workflow, key, run_id, seen_ms) VALUES (?, ?, ?, ?)" +
                           core_.dialect().Upsert("workflow, key", {}));
    s.Bind(1, workflow).Bind(2, key).Bind(3, id).Bind(4, now).Run();
  }
  tx.Commit();
  return id;
}

std::set<std::string> SqliteMetastore::ArrivedKeys(const std::string& workflow) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT key FROM arrivals WHERE workflow = ?");
  s.Bind(1, workflow);
  std::set<std::string> out;
  while (s.Step()) out.insert(s.Text(0));
  return out;
}

bool SqliteMetastore::ClaimRun(int64_t id, const std::string& owner) {
  auto lock = core_.Lock();
  Statement s(core_,
              "UPDATE runs SET status = 'running', owner = ?, " +
                  fmt::format("started_ms = CASE WHEN started_ms = 0 THEN {} ELSE started_ms END ",
                              core_.dialect().NowMs()) +
                  "WHERE id = ? AND status = 'queued'");
  s.Bind(1, owner).Bind(2, id).Run();
  return core_.Changes() == 1;
}

void SqliteMetastore::RequeueRun(int64_t id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "UPDATE runs SET status = 'queued', owner = '' WHERE id = ? AND status = 'running'");
  s.Bind(1, id).Run();
}

std::optional<Run> SqliteMetastore::RequestCancel(int64_t id) {
  {
    Transaction tx(core_);
    Statement q(core_,
                "UPDATE runs SET status = 'cancelled', ended_ms = ?, error = 'cancelled before it "
                "started' WHERE id = ? AND status = 'queued'");
    q.Bind(1, NowMs()).Bind(2, id).Run();
    Statement r(core_, "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status = 'running'");
    r.Bind(1, id).Run();
    tx.Commit();
  }
  return GetRun(id);
}

bool SqliteMetastore::RedriveRun(int64_t id) {
  Transaction tx(core_);
  Statement r(core_,
              "UPDATE runs SET status = 'queued', owner = '', ended_ms = NULL, error = '', "
              "cancel_requested = 0 WHERE id = ? AND status IN ('failed', 'cancelled')");
  r.Bind(1, id).Run();
  if (core_.Changes() != 1) return false;
  // Containers pick up where their children were; leaves get a new attempt.
  Statement c(core_,
              "UPDATE steps SET status = 'running' WHERE run_id = ? AND status IN ('failed', "
              "'cancelled') AND kind IN ('parallel', 'choice', 'map', 'workflow')");
  c.Bind(1, id).Run();
  Statement l(core_,
              "UPDATE steps SET status = 'retrying' WHERE run_id = ? AND status IN ('failed', "
              "'cancelled')");
  l.Bind(1, id).Run();
  tx.Commit();
  return true;
}

std::vector<StepState> SqliteMetastore::Steps(int64_t run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(
      core_,
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
  Transaction tx(core_);
  int64_t now = NowMs();
  Statement st(core_,
               "INSERT INTO steps (run_id, path, kind, status, attempts, started_ms) "
               "VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (run_id, path) DO UPDATE SET "
               "status = 'running', attempts = excluded.attempts, ended_ms = NULL");
  st.Bind(1, run_id).Bind(2, path).Bind(3, kind).Bind(4, attempt).Bind(5, now).Run();
  Statement at(core_,
               "INSERT INTO attempts (run_id, path, attempt, status, started_ms) "
               "VALUES (?, ?, ?, 'running', ?)" +
                   core_.dialect().Upsert("run_id, path, attempt", {"status", "started_ms"}) +
                   ", ended_ms = NULL, error_kind = '', error = '', child_run_id = NULL");
  at.Bind(1, run_id).Bind(2, path).Bind(3, attempt).Bind(4, now).Run();
  tx.Commit();
}

void SqliteMetastore::SetAttemptChild(int64_t run_id, const std::string& path, int attempt,
                                      int64_t child_run_id) {
  auto lock = core_.Lock();
  Statement s(core_,
              "UPDATE attempts SET child_run_id = ? WHERE run_id = ? AND path = ? AND attempt = ?");
  s.Bind(1, child_run_id).Bind(2, run_id).Bind(3, path).Bind(4, attempt).Run();
}

void SqliteMetastore::EndAttempt(const Attempt& a, const std::string& step_status,
                                 const std::string& output) {
  Transaction tx(core_);
  int64_t now = a.ended_ms ? a.ended_ms : NowMs();
  Statement at(core_,
               "UPDATE attempts SET status = ?, ended_ms = ?, error_kind = ?, error = ? "
               "WHERE run_id = ? AND path = ? AND attempt = ?");
  at.Bind(1, a.status).Bind(2, now).Bind(3, a.error_kind).Bind(4, a.error);
  at.Bind(5, a.run_id).Bind(6, a.path).Bind(7, a.attempt).Run();
  bool done = step_status != "running" && step_status != "retrying" && step_status != "catching";
  Statement st(core_,
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
  auto lock = core_.Lock();
  Statement s(
      core_, "INSERT INTO run_logs (run_id, time_ms, level, step, message) VALUES (?, ?, ?, ?, ?)" +
                 core_.dialect().Returning("id"));
  s.Bind(1, run_id).Bind(2, NowMs()).Bind(3, level).Bind(4, step).Bind(5, message);
  s.Step();
  return s.Int(0);
}

std::vector<LogLine> SqliteMetastore::Logs(int64_t run_id, int64_t after_id, size_t limit) {
  auto lock = core_.Lock();
  Statement s(core_,
              "SELECT id, time_ms, level, step, message FROM run_logs WHERE run_id = ? AND id > ? "
              "ORDER BY id LIMIT ?");
  s.Bind(1, run_id).Bind(2, after_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<LogLine> out;
  while (s.Step()) out.push_back({s.Int(0), run_id, s.Int(1), s.Text(2), s.Text(3), s.Text(4)});
  return out;
}

std::optional<int64_t> SqliteMetastore::ScheduleMark(const std::string& workflow,
                                                     const std::string& trigger) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT fire_ms FROM schedule_marks WHERE workflow = ? AND trigger = ?");
  s.Bind(1, workflow).Bind(2, trigger);
  if (!s.Step()) return std::nullopt;
  return s.Int(0);
}

void SqliteMetastore::SetScheduleMark(const std::string& workflow, const std::string& trigger,
                                      int64_t fire_ms) {
  auto lock = core_.Lock();
  Statement s(core_, "INSERT INTO schedule_marks (workflow, trigger, fire_ms) VALUES (?, ?, ?)" +
                         core_.dialect().Upsert("workflow, trigger", {"fire_ms"}));
  s.Bind(1, workflow).Bind(2, trigger).Bind(3, fire_ms).Run();
}

std::vector<double> SqliteMetastore::RuleHistory(const std::string& table, const std::string& rule,
                                                 size_t n, const std::string& kind) {
  auto lock = core_.Lock();
  Statement s(core_,
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
  auto lock = core_.Lock();
  Statement s(
      core_,
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

std::map<std::string, std::string> SqliteMetastore::ColumnTags(int64_t table_id) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT column_name, tags FROM column_tags WHERE table_id = ?");
  s.Bind(1, table_id);
  std::map<std::string, std::string> out;
  while (s.Step()) out[s.Text(0)] = s.Text(1);
  return out;
}

bool SqliteMetastore::CreateToken(const std::string& name, const std::string& hash) {
  auto lock = core_.Lock();
  Statement s(core_,
              "INSERT INTO api_tokens (name, hash, created_ms) VALUES (?, ?, ?) "
              "ON CONFLICT (name) DO NOTHING");
  s.Bind(1, name).Bind(2, hash).Bind(3, NowMs()).Run();
  return core_.Changes() == 1;
}

std::vector<ApiToken> SqliteMetastore::Tokens() {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT name, hash, created_ms, last_used_ms FROM api_tokens ORDER BY name");
  std::vector<ApiToken> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Int(3)});
  return out;
}

bool SqliteMetastore::RevokeToken(const std::string& name) {
  auto lock = core_.Lock();
  Statement s(core_, "DELETE FROM api_tokens WHERE name = ?");
  s.Bind(1, name).Run();
  return core_.Changes() == 1;
}

void SqliteMetastore::TouchToken(const std::string& name, int64_t now_ms) {
  auto lock = core_.Lock();
  Statement s(core_, "UPDATE api_tokens SET last_used_ms = ? WHERE name = ?");
  s.Bind(1, now_ms).Bind(2, name).Run();
}

}  // namespace sluice::meta
