#pragma once
// A thin RAII layer over DuckDB's C API (the stable ABI). DuckDB does the columnar work; this
// layer owns handles, turns DuckDB errors into sluice::Error, and reports progress.
#include <duckdb.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace sluice::engine {

// The materialized answer of one statement. Values are read as text (NULL as nullopt): the
// answers Sluice reads are small (listings, figures, reports); bulk data never leaves DuckDB.
class Result {
 public:
  explicit Result(duckdb_result result) : result_(result) {}
  ~Result() { duckdb_destroy_result(&result_); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result(Result&& other) noexcept;

  size_t column_count();
  size_t row_count();
  std::string column_name(size_t column);
  // True for numeric columns (which listings right-align).
  bool is_numeric(size_t column);
  std::optional<std::string> Get(size_t column, size_t row);
  // The value, or `fallback` for NULL.
  std::string GetOr(size_t column, size_t row, const std::string& fallback = "");
  int64_t GetInt(size_t column, size_t row);

 private:
  duckdb_result result_;
  bool moved_ = false;
};

// What a statement does, for the read-only gate of `sluice query`.
enum class StatementKind { kSelect, kExplain, kOther };

struct StatementInfo {
  StatementKind kind;
  std::string keyword;  // e.g. "INSERT", "COPY"
};

class Database {
 public:
  // An in-memory database ("") or a file. `threads` 0 means one per core.
  explicit Database(const std::string& path = "", int threads = 0);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  duckdb_database handle() { return db_; }

 private:
  duckdb_database db_ = nullptr;
};

class ChunkStream;

class Connection {
 public:
  explicit Connection(Database& db);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements; the last one's answer is returned. Throws sluice::Error with
  // DuckDB's message (which points into `sql`) on failure.
  Result Query(const std::string& sql);
  void Execute(const std::string& sql) { Query(sql); }

  // As Query, calling `progress(percent)` (when given) about every `interval_ms` while the
  // statement runs, and interrupting it when the user asks (sluice::Interrupted()).
  using ProgressFn = std::function<void(double percent)>;
  Result QueryWithProgress(const std::string& sql, const ProgressFn& progress,
                           int interval_ms = 250);

  // Runs one statement and hands its answer to `each_chunk` one data chunk at a time, in order,
  // never holding the whole answer: this is the door for bulk data leaving DuckDB (see
  // ChunkStream for the contract). Throws as ChunkStream does, and whatever `each_chunk` throws.
  void Stream(const std::string& sql, const std::function<void(duckdb_data_chunk)>& each_chunk);

  // Splits `sql` into statements and says what each one is, without running anything.
  std::vector<StatementInfo> Inspect(const std::string& sql);

  duckdb_connection handle() { return conn_; }

 private:
  duckdb_connection conn_ = nullptr;
};

// The answer of one statement, read as a stream of data chunks (for bulk data; Result is for
// small answers). Memory: DuckDB keeps at most a small buffer of chunks ahead of the reader, and
// the stream holds one chunk at a time, so an answer of any size is read in bounded memory.
//
// The constructor prepares `sql` (exactly one statement) and runs it until its first rows are
// ready; Next() then returns the chunks (at most duckdb_vector_size() rows each, every vector
// flat: no dictionary or constant vectors) until the answer is exhausted. Failures throw
// sluice::Error as Connection::Query does (an input.sql or io.engine error; DuckDB's message);
// a user's interrupt (sluice::Interrupted(), polled while the statement runs and between
// chunks) stops the statement (duckdb_interrupt) and throws ErrorKind::kInterrupted. The
// connection runs nothing else while the stream is alive; destroying it early abandons the
// statement.
class ChunkStream {
 public:
  ChunkStream(Connection& conn, const std::string& sql);
  ~ChunkStream();
  ChunkStream(const ChunkStream&) = delete;
  ChunkStream& operator=(const ChunkStream&) = delete;

  size_t column_count();
  std::string column_name(size_t column);
  duckdb_type column_type(size_t column);

  // The next chunk, owned by the stream and valid until the next call to Next() or the
  // stream's end; nullptr once the answer is exhausted. Never returns an empty chunk.
  duckdb_data_chunk Next();

 private:
  void Release();
  [[noreturn]] void ThrowInterrupted();

  duckdb_connection conn_;
  duckdb_result result_{};
  bool has_result_ = false;
  duckdb_data_chunk chunk_ = nullptr;
};

// `select` (one SELECT) with each column of a type Result::Get cannot read in full (anything but
// BOOLEAN, the numbers, VARCHAR, DATE, TIME and TIMESTAMP: TIMESTAMPTZ, lists, structs, UUID, ...)
// cast to VARCHAR under its own name, so that an answer printed from a Result shows every value.
// Prepares `select` on `conn` and runs nothing; `select` itself when no column needs a cast, or
// when it does not prepare (running it then reports why).
std::string Printable(Connection& conn, const std::string& select);

// `message` without DuckDB's quote of the statement ("LINE n: ..." and its caret).
std::string WithoutQuote(const std::string& message);

// Runs `query` (a call on a connection, of SQL Sluice wrote around a user's text); a
// sluice::Error it throws loses DuckDB's quote, which would show Sluice's SQL, not the user's.
template <typename Query>
auto Unquoted(Query&& query) -> decltype(query()) {
  try {
    return query();
  } catch (const Error& e) {
    throw Error(e.kind(), e.code(), WithoutQuote(e.what()));
  }
}

// Whether the connection's database has a function `name` of `type` (scalar, aggregate, ...).
bool HasFunction(Connection& conn, const std::string& name, const std::string& type);

}  // namespace sluice::engine
