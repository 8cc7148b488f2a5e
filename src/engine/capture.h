#pragma once
// Rows handed out of a running statement: the SQL function NAME(file, reason, raw) registered
// on a connection keeps (file, reason, raw) when `raw` is not NULL, and only counts `reason`
// otherwise. It returns false, so `WHERE keep OR NAME(...)` sets rows aside in the same pass
// that writes the rest. Safe to call from DuckDB's worker threads.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sluice::engine {

// The SQL function NAME(INTEGER) -> BOOLEAN, always true, counts the rows it is called for, per
// value of its argument: `WHERE NAME(file)` counts what flows past that point, per file, without
// stopping any of it. Safe to call from DuckDB's worker threads.
class RowCounter {
 public:
  RowCounter(Connection& conn, const std::string& name);
  RowCounter(const RowCounter&) = delete;
  RowCounter& operator=(const RowCounter&) = delete;
  // Every row counted, and the rows per argument value (NULL counted under nullopt).
  int64_t count() const;
  std::map<std::optional<int32_t>, int64_t> counts() const;
  void Reset();

 private:
  static void Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output);
  mutable std::mutex mu_;
  std::map<std::optional<int32_t>, int64_t> counts_;
};

class RowCapture {
 public:
  struct Row {
    std::optional<int64_t> file;
    std::string reason, raw;
  };

  // Registers the function `name`(INTEGER, VARCHAR, VARCHAR) -> BOOLEAN on `conn`. The capture
  // must outlive every statement that calls it.
  RowCapture(Connection& conn, const std::string& name);
  RowCapture(const RowCapture&) = delete;
  RowCapture& operator=(const RowCapture&) = delete;

  // Rows passed with a raw value, in no particular order.
  const std::vector<Row>& rows() const { return rows_; }
  // How many rows were passed with no raw value, per reason.
  const std::map<std::string, int64_t>& counts() const { return counts_; }

  // Forgets everything captured (before running the statement again).
  void Reset();

  // Creates the table `table` (file BIGINT, reason VARCHAR, raw VARCHAR) in the connection's
  // database, holding rows().
  void Materialize(Connection& conn, const std::string& table) const;

 private:
  static void Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output);

  std::mutex mu_;
  std::vector<Row> rows_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace sluice::engine

namespace sluice::engine {

// The SQL function NAME(VARCHAR) -> VARCHAR: a stable keyed token of a value, "tok_" and the
// first 32 hex digits of HMAC-SHA256(key, value). The same value gives the same token in every
// table (joins still work), and without the key nobody can compute or check one. NULL stays NULL.
class Tokenizer {
 public:
  Tokenizer(Connection& conn, const std::string& name, std::string key);
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  std::string Token(std::string_view value) const;

 private:
  static void Call(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output);
  std::string key_;
};

}  // namespace sluice::engine
