// SqlConnection over SQLite's C API (sql_connection.h).
#include <sqlite3.h>

#include "common/error.h"
#include "meta/sql_connection.h"

namespace sluice::meta {
namespace {

class SqliteCursor : public SqlCursor {
 public:
  SqliteCursor(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      Fail(ErrorKind::kInternal, "metastore: cannot prepare '{}': {}", sql, sqlite3_errmsg(db));
    }
  }
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }

  void Bind(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, const std::string& v) override {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindReal(int i, double v) override { sqlite3_bind_double(stmt_, i, v); }
  void BindNull(int i) override { sqlite3_bind_null(stmt_, i); }

  bool Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(ErrorKind::kIo, "metastore: {}", sqlite3_errmsg(db_));
  }
  int64_t Int(int col) override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) override { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) override {
    auto p = sqlite3_column_text(stmt_, col);
    // With its length: a text may hold NUL bytes (a stored manifest does when a file does).
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : "";
  }
  bool IsNull(int col) override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Columns() override { return sqlite3_column_count(stmt_); }
  std::string Name(int col) override { return sqlite3_column_name(stmt_, col); }
  SqlType Type(int col) override {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_NULL:
        return SqlType::kNull;
      case SQLITE_INTEGER:
        return SqlType::kInteger;
      case SQLITE_FLOAT:
        return SqlType::kReal;
      default:
        return SqlType::kText;
    }
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(const fs::path& path) : where_(path.string()) {
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
  }
  ~SqliteConnection() override { sqlite3_close(db_); }

  const std::string& where() const override { return where_; }
  void Exec(const std::string& sql) override {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      Fail(ErrorKind::kIo, "metastore {}: {}", where_, message);
    }
  }
  std::unique_ptr<SqlCursor> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteCursor>(db_, sql);
  }
  int64_t Changes() override { return sqlite3_changes(db_); }
  void Begin(const std::string& begin) override { Exec(begin); }
  void Commit() override { Exec("COMMIT"); }
  void Rollback() noexcept override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  std::string where_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> ConnectSqlite(const fs::path& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace sluice::meta
