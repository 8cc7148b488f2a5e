#pragma once
// meta::SqlCore is the one door of the SQL stores to their database: the connection, the
// transaction scope, prepared statements and reading rows, and the schema migrations. Every store
// (sql_*.cc) writes its SQL once against it and a Dialect.
//
// Contract:
// - Opening creates the database when missing and migrates it to the dialect's newest schema in
//   one transaction, recording each version applied in the table schema_version. A metastore
//   written before that table existed is adopted at the version it recorded (SQLite: PRAGMA
//   user_version) and upgraded in place. One newer than this binary is refused with kIo, code
//   meta.schema_too_new, naming both versions; nothing is changed. Two processes opening one
//   database at once migrate it once.
// - A Statement or Transaction is used only while its Lock or Transaction is held; the lock
//   makes one SqlCore safe from several threads (a call waits for the one before it).
// - Failures of the database throw Error(kIo) naming the database; a statement the database
//   cannot prepare is a bug, kInternal.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/files.h"
#include "meta/dialect.h"
#include "meta/sql_connection.h"
#include "meta/status.h"

namespace sluice::meta {

class SqlCore {
 public:
  // Migrates the database behind `connection` (see the contract above), or with `migrate`
  // false only connects (schema_version() then tells where it stands).
  SqlCore(std::unique_ptr<SqlConnection> connection, std::unique_ptr<Dialect> dialect,
          bool migrate = true);
  ~SqlCore();
  SqlCore(const SqlCore&) = delete;
  SqlCore& operator=(const SqlCore&) = delete;

  const Dialect& dialect() const { return *dialect_; }
  // The schema version the database is at; the one this binary migrates to.
  int schema_version();
  int newest_version() const { return static_cast<int>(dialect_->Migrations().size()); }
  // The migrations this SqlCore applied when it opened (0 when another process had, or none
  // were due).
  int applied() const { return applied_; }
  // The database, for messages: a path, or PostgreSQL's database, server and user.
  const std::string& where() const { return connection_->where(); }

  // Holds the connection for one call's statements (reads and single-statement writes).
  [[nodiscard]] std::unique_lock<std::mutex> Lock() { return std::unique_lock(mu_); }

  class Statement {
   public:
    // Prepares `sql` (with `?`/`?N` placeholders); the caller holds a Lock or a Transaction.
    Statement(SqlCore& core, std::string_view sql);
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& Bind(int i, int64_t v);
    Statement& Bind(int i, const std::string& v);
    Statement& BindReal(int i, double v);
    Statement& BindNull(int i);
    // Binds v, or NULL when v is 0 (optional references such as parent_run_id).
    Statement& BindOrNull(int i, int64_t v);
    // Steps once; true while a row is available.
    bool Step();
    // Steps to the end.
    void Run();
    int64_t Int(int col);
    double Double(int col);
    std::string Text(int col);
    bool IsNull(int col);
    int Columns();
    std::string Name(int col);
    SqlType Type(int col);

   private:
    std::unique_ptr<SqlCursor> cursor_;
  };

  // A write transaction: holds the connection, begins at construction, commits at Commit() and
  // rolls back when it goes out of scope uncommitted (an exception, an early return).
  class Transaction {
   public:
    explicit Transaction(SqlCore& core);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void Commit();

   private:
    SqlCore& core_;
    std::unique_lock<std::mutex> lock_;
  };

  // The statements that make the database's generated keys (SQLite's AUTOINCREMENT,
  // PostgreSQL's identity columns) continue after the largest of `table`'s, after rows were
  // inserted with their keys given (an import); the caller holds a Transaction.
  void ResumeKeys(const std::string& table);

  // Rows the last INSERT/UPDATE/DELETE changed (the caller holds the connection).
  int64_t Changes();

 private:
  void Exec(const std::string& sql);
  // The recorded schema version; `recorded` tells whether schema_version exists.
  int ReadVersion(bool& recorded);
  void Migrate();

  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<SqlConnection> connection_;
  std::mutex mu_;
  int applied_ = 0;
};

// A status as an SQL literal ('queued'): the words are the constants of meta/status.h, so the
// stores never spell one by hand.
template <typename S>
std::string Sql(S status) {
  return std::string("'") + ToString(status) + "'";
}

// "('failed', 'cancelled')" for `status IN ...` in a statement that moves a row from any of
// `from` to `to`: each move is checked against the status table first (a refused one is a bug,
// Error(kInternal)), so a store cannot make a move the table does not allow.
template <typename S>
std::string MovesTo(std::initializer_list<S> from, S to) {
  std::string out = "(";
  for (S f : from) {
    CheckTransition(f, to);
    out += (out.size() > 1 ? ", " : "") + Sql(f);
  }
  return out + ")";
}

}  // namespace sluice::meta
