#pragma once
// meta::SqlConnection is the seam under SqlCore: one session with the metastore's database
// (SQLite through its C API, PostgreSQL through the pg layer). SqlCore and the stores above it
// never see which; a Dialect says how the SQL differs, this says how statements travel.
//
// Contract (both backends):
// - Not for concurrent use: SqlCore's lock makes one call at a time.
// - Exec runs statements separated by ';' with no parameters and no rows (migrations, PRAGMAs).
// Prepare hands back a cursor for one statement whose placeholders are already in the
//   database's form (Dialect::Placeholders).
// - Failures of the database throw Error(kIo) naming the database, a lost race Error(kConflict)
//   (a PostgreSQL serialization failure, deadlock or unique violation), a statement the database
//   cannot prepare Error(kInternal). Rollback never throws.
// - A PostgreSQL session that broke (server restart, network) is opened again by the next call
//   made outside a transaction; a call inside one fails and the transaction is lost.
#include <cstdint>
#include <memory>
#include <string>

#include "common/files.h"

namespace sluice::meta {

// What a field of a row holds (its stored type: SQLite's storage class, PostgreSQL's column type).
enum class SqlType { kNull, kInteger, kReal, kText };

// One statement's parameters and rows. Parameters are 1-based, columns 0-based; reading a NULL
// gives 0, 0.0 or "".
class SqlCursor {
 public:
  virtual ~SqlCursor() = default;
  // The row's columns (after a Step that gave a row): how many, their names, what each holds.
  virtual int Columns() = 0;
  virtual std::string Name(int col) = 0;
  virtual SqlType Type(int col) = 0;
  virtual void Bind(int i, int64_t v) = 0;
  virtual void Bind(int i, const std::string& v) = 0;
  virtual void BindReal(int i, double v) = 0;
  virtual void BindNull(int i) = 0;
  // Runs the statement on the first call; true while a row is available.
  virtual bool Step() = 0;
  virtual int64_t Int(int col) = 0;
  virtual double Double(int col) = 0;
  virtual std::string Text(int col) = 0;
  virtual bool IsNull(int col) = 0;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // The database, for messages: a path, or PostgreSQL's database, server and user.
  virtual const std::string& where() const = 0;
  virtual void Exec(const std::string& sql) = 0;
  virtual std::unique_ptr<SqlCursor> Prepare(const std::string& sql) = 0;
  // Rows the last INSERT/UPDATE/DELETE changed.
  virtual int64_t Changes() = 0;
  // Starts a transaction with `begin` (Dialect::BeginWrite), ends it with its changes, or
  // without them (nothing when none is open).
  virtual void Begin(const std::string& begin) = 0;
  virtual void Commit() = 0;
  virtual void Rollback() noexcept = 0;
};

// An SQLite file in WAL mode, created with its folder when missing.
std::unique_ptr<SqlConnection> ConnectSqlite(const fs::path& path);
// A PostgreSQL server: a postgresql:// URI or a libpq keyword string. Throws pg.connect (kIo),
// never quoting the password.
std::unique_ptr<SqlConnection> ConnectPostgres(const std::string& conninfo);

}  // namespace sluice::meta
