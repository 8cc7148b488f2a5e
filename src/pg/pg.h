#pragma once
// The one PostgreSQL layer (libpq underneath; no other module includes libpq): for the metastore,
// the warehouse and extraction. Statements go over the text protocol with $1, $2, ... parameters.
//
// Secrets: a connection's password (from the conninfo, the URI or PGPASSWORD) never appears in an
// error message; messages also pass through Redact (common/redact.h). Server notices are dropped
// (libpq would print them on stderr).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct pg_cancel PGcancel;

namespace sluice::pg {

// Every failure of this layer. code() is one of
//   pg.connect             the server cannot be reached or refuses the login (kIo)
//   pg.timeout             statement_timeout cancelled the statement (kIo)
//   pg.cancelled           Connection::Cancel cancelled it (kInterrupted)
//   pg.serialization_failure, pg.deadlock, pg.unique_violation
//                          a lost race (SQLSTATE 40001, 40P01, 23505): retry, or report a
//                          conflict; lost_race() is true for these three (kConflict)
//   pg.query               any other error the server reports for a statement (kIo)
//   pg.type                a field read as a type it does not have, or a NULL read as a value
//                          (kInternal)
// sqlstate() is the server's five-character SQLSTATE, or "" when the server said nothing.
class Error : public sluice::Error {
 public:
  Error(ErrorKind kind, std::string code, std::string sqlstate, const std::string& message)
      : sluice::Error(kind, std::move(code), message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool lost_race() const;

 private:
  std::string sqlstate_;
};

// A statement parameter: a value in its text form and the type it is sent as (NULL, int8,
// float8 and bool by their C++ type; strings as "unknown", so the server reads them as whatever
// the statement needs: text, date, jsonb, numeric ...).
class Param {
 public:
  Param(std::nullptr_t) {}
  Param(int value) : Param(static_cast<int64_t>(value)) {}
  Param(int64_t value);
  Param(double value);
  Param(bool value);
  Param(std::string value) : text_(std::move(value)) {}
  Param(std::string_view value) : text_(std::string(value)) {}
  Param(const char* value) : text_(std::string(value)) {}

  const std::optional<std::string>& text() const { return text_; }
  unsigned int type_oid() const { return type_oid_; }

 private:
  std::optional<std::string> text_;
  unsigned int type_oid_ = 0;
};

// The answer to one statement: its rows (possibly none) and how many rows it changed. Fields
// are read by row and column index; the typed readers throw pg.type on NULL or a type mismatch.
class Result {
 public:
  explicit Result(PGresult* result);
  ~Result();
  Result(Result&&) noexcept;
  Result& operator=(Result&&) = delete;
  Result(const Result&) = delete;

  int rows() const;
  int columns() const;
  std::string column_name(int column) const;
  bool is_numeric(int column) const;        // an integer, float or numeric column
  unsigned int type_oid(int column) const;  // the column's type: its oid in pg_type
  int type_modifier(int column) const;      // its typmod (numeric's precision and scale); -1 none
  int column(std::string_view name) const;  // its index; throws pg.type for an unknown name
  int64_t affected() const;                 // rows an INSERT/UPDATE/DELETE/COPY changed

  bool IsNull(int row, int column) const;
  std::string Text(int row, int column) const;  // any type, in PostgreSQL's text form
  int64_t Int(int row, int column) const;       // int2, int4, int8
  double Double(int row, int column) const;     // float4, float8, numeric and the integers
  bool Bool(int row, int column) const;         // bool

 private:
  friend class Connection;
  friend class CopyIn;
  const char* Value(int row, int column, const char* wanted) const;
  PGresult* result_;
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

class CopyIn;

// One session with a server. Not for concurrent use: one thread at a time runs statements; only
// Cancel may be called from another thread meanwhile.
class Connection {
 public:
  // Connects with a conninfo string ("host=... dbname=...") or a postgresql:// URI, waiting at
  // most connect_timeout_s (libpq's connect_timeout, unless the conninfo sets its own). Throws
  // pg.connect naming the host, port, database and user, never the password.
  explicit Connection(const std::string& conninfo, int connect_timeout_s = 10);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with $1, $2, ... bound to `params`. Throws pg::Error (see above).
  Result Query(std::string_view sql, const std::vector<Param>& params = {});

  // Runs statements separated by ';', without parameters (schema migrations, BEGIN with its
  // locks). They run as one implicit transaction unless they hold their own BEGIN/COMMIT; the
  // first that fails stops the rest and is thrown as Query throws it.
  void Script(std::string_view sql);

  // Whether the session is gone (the server restarted, the network dropped it): every statement
  // on it fails with pg.connect from then on; open a new Connection.
  bool Broken() const;

  // The session's database, server and user as "database 'DB' on HOST:PORT as 'USER'", for
  // messages (never a password; not in the form of a URI, so a URI registered as a secret whole
  // does not hide it).
  std::string Where() const;

  // Statements running longer than `ms` are cancelled by the server with pg.timeout (0: no
  // limit). Holds for this session until changed.
  void SetStatementTimeout(int64_t ms);

  // Asks the server to cancel the statement running now (it fails with pg.cancelled); no effect
  // when none runs. Safe to call from any thread while another runs Query.
  void Cancel();

  // Starts `COPY ... FROM STDIN` (text format); rows go through the returned CopyIn. The
  // connection runs nothing else until it is finished or destroyed.
  CopyIn CopyFrom(std::string_view copy_sql);

  // Runs `COPY (...) TO STDOUT` (any format) and hands `row` each row as the server sent it (one
  // row per call, its line end included), never holding more than one row. Returns how many rows
  // there were. Throws pg::Error as Query does, pg.cancelled when the user interrupts
  // (sluice::Interrupted(), polled while waiting), and whatever `row` throws, after cancelling
  // the COPY: the connection may run statements again then.
  int64_t CopyTo(std::string_view copy_sql, const std::function<void(std::string_view)>& row);

 private:
  friend class CopyIn;
  friend class Transaction;
  enum class Mode { kQuery, kScript, kCopyIn, kCopyOut };
  Result Run(std::string_view sql, const std::vector<Param>& params, Mode mode);
  // Reads and drops what is left of a COPY TO after it was cancelled.
  void DrainCopyOut();
  // Waits up to 100 ms for the server and reads what it sent; cancels the statement (once:
  // `cancelled`) when the user interrupts.
  void WaitForInput(bool& cancelled, std::string_view what);
  [[noreturn]] void ThrowFromResult(const PGresult* result, std::string_view what);
  [[noreturn]] void ThrowFromConnection(std::string_view what);
  std::string Clean(std::string text) const;

  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;
  std::string password_;  // the secret to keep out of messages
  // Pieces of the secrets in the conninfo, cut at the characters a URI splits at: a password
  // that holds '/', '@', '?' or '#' breaks a URI apart, and libpq's messages then quote the
  // pieces as a host, a port or a database name.
  std::vector<std::string> fragments_;
  std::atomic<bool> cancel_requested_{false};
};

// Rows of one COPY FROM STDIN. Finish ends it; destroying it unfinished aborts the COPY (no row
// of it is stored).
class CopyIn {
 public:
  CopyIn(CopyIn&& other) noexcept;
  CopyIn& operator=(CopyIn&&) = delete;
  ~CopyIn();

  // Sends one row, escaped for the text format (NULL as \N). Throws pg.query when the server
  // has given up on the COPY.
  void WriteRow(const std::vector<Param>& row);
  // Sends bytes already encoded in the text format (pg/copy_text.h): whole rows, or any piece of
  // the stream (a row may span two calls). Each call is one message to the server, so callers
  // of bulk data buffer about 1 MiB per call. Throws as WriteRow.
  //
  // A row the server refuses (a bad value, a constraint) fails the COPY at once on the server,
  // which then reads and drops the rest; libpq reads the error only when the COPY ends, so
  // WriteRow and WriteRaw go on accepting data and Finish throws the error.
  void WriteRaw(std::string_view data);
  // Ends the COPY; the rows stored. Throws the server's error (a bad value, a constraint).
  int64_t Finish();

 private:
  friend class Connection;
  explicit CopyIn(Connection* connection) : connection_(connection) {}
  Connection* connection_;
};

// A transaction on `connection`: BEGIN on construction, COMMIT on Commit, ROLLBACK when
// destroyed uncommitted (a thrown exception leaves nothing behind). A ROLLBACK that fails is
// ignored: the session is then broken, and the server ends the transaction with it.
class Transaction {
 public:
  // `read_only`: statements that write fail (SQLSTATE 25006) instead.
  explicit Transaction(Connection& connection, Isolation isolation = Isolation::kReadCommitted,
                       bool read_only = false);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Throws the server's error (pg.serialization_failure under kSerializable, ...); the
  // transaction is over either way.
  void Commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace sluice::pg
