#include "meta/sql_core.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/error.h"

namespace sluice::meta {

SqlCore::SqlCore(const fs::path& path, std::unique_ptr<Dialect> dialect)
    : dialect_(std::move(dialect)), where_(path.string()) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (sqlite3_open_v2(where_.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    Fail(ErrorKind::kIo, "cannot open the metastore {}: {}", where_, message);
  }
  sqlite3_busy_timeout(db_, 10000);
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA synchronous=NORMAL");
  Exec("PRAGMA foreign_keys=ON");
  Migrate();
}

SqlCore::~SqlCore() { sqlite3_close(db_); }

void SqlCore::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    Fail(ErrorKind::kIo, "metastore {}: {}", where_, message);
  }
}

int64_t SqlCore::Changes() { return sqlite3_changes(db_); }

SqlCore::Statement::Statement(SqlCore& core, std::string_view sql) : core_(core) {
  std::string text = core.dialect().Placeholders(sql);
  if (sqlite3_prepare_v2(core.db_, text.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    Fail(ErrorKind::kInternal, "metastore: cannot prepare '{}': {}", text,
         sqlite3_errmsg(core.db_));
  }
}

SqlCore::Statement::~Statement() { sqlite3_finalize(stmt_); }

SqlCore::Statement& SqlCore::Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindReal(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

SqlCore::Statement& SqlCore::Statement::BindOrNull(int i, int64_t v) {
  return v ? Bind(i, v) : BindNull(i);
}

bool SqlCore::Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(ErrorKind::kIo, "metastore: {}", sqlite3_errmsg(core_.db_));
}

void SqlCore::Statement::Run() {
  while (Step()) {
  }
}

int64_t SqlCore::Statement::Int(int col) { return sqlite3_column_int64(stmt_, col); }

double SqlCore::Statement::Double(int col) { return sqlite3_column_double(stmt_, col); }

std::string SqlCore::Statement::Text(int col) {
  auto p = sqlite3_column_text(stmt_, col);
  // With its length: a text may hold NUL bytes (a stored manifest does when a file does).
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
           : "";
}

bool SqlCore::Statement::IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

SqlCore::Transaction::Transaction(SqlCore& core) : core_(core), lock_(core.mu_) {
  core_.Exec(std::string(core_.dialect().BeginWrite()));
}

SqlCore::Transaction::~Transaction() {
  if (!done_) sqlite3_exec(core_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqlCore::Transaction::Commit() {
  core_.Exec("COMMIT");
  done_ = true;
}

int SqlCore::ReadVersion(bool& recorded) {
  Statement exists(*this, dialect_->TableExists());
  exists.Bind(1, std::string("schema_version"));
  recorded = exists.Step();
  if (recorded) {
    Statement s(*this, "SELECT coalesce(max(version), 0) FROM schema_version");
    s.Step();
    return static_cast<int>(s.Int(0));
  }
  std::string legacy = dialect_->LegacyVersionRead();
  if (legacy.empty()) return 0;
  Statement s(*this, legacy);
  s.Step();
  return static_cast<int>(s.Int(0));
}

int SqlCore::schema_version() {
  auto lock = Lock();
  bool recorded = false;
  return ReadVersion(recorded);
}

void SqlCore::Migrate() {
  const auto& migrations = dialect_->Migrations();
  const int target = static_cast<int>(migrations.size());
  auto refuse_newer = [&](int current) {
    if (current <= target) return;
    FailWithCode(ErrorKind::kIo, "meta.schema_too_new",
                 "the metastore {} has schema version {}, newer than this sluice ({})\n  hint: "
                 "use the sluice release that wrote it, or a newer one",
                 where_, current, target);
  };
  bool recorded = false;
  {
    auto lock = Lock();
    int current = ReadVersion(recorded);
    refuse_newer(current);
    if (recorded && current == target) return;
  }
  Transaction tx(*this);
  int current = ReadVersion(recorded);  // again under the write lock: another process may have won
  refuse_newer(current);
  auto record = [&](int version) {
    Statement s(*this, fmt::format("INSERT INTO schema_version (version, dialect, applied_ms) "
                                   "VALUES (?, ?, {})",
                                   dialect_->NowMs()));
    s.Bind(1, int64_t{version}).Bind(2, std::string(dialect_->name())).Run();
  };
  if (!recorded) {
    Exec(
        fmt::format("CREATE TABLE schema_version (version {0} PRIMARY KEY, dialect {1} NOT NULL, "
                    "applied_ms {0} NOT NULL)",
                    dialect_->IntegerType(), dialect_->TextType()));
    if (current > 0) record(current);  // adopted from the legacy record
  }
  for (int v = current; v < target; ++v) {
    Exec(migrations[v]);
    record(v + 1);
  }
  // Binaries from before schema_version read only the legacy record: keep it, so they refuse a
  // schema newer than theirs.
  if (std::string legacy = dialect_->LegacyVersionWrite(target); !legacy.empty()) Exec(legacy);
  tx.Commit();
}

}  // namespace sluice::meta
