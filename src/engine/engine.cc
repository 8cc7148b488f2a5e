#include "engine/engine.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/strings.h"
#include "common/time.h"
#include "engine/duplicates.h"
#include "engine/moments.h"
#include "engine/pattern.h"

namespace sluice::engine {

Result::Result(Result&& other) noexcept : result_(other.result_) {
  other.result_ = duckdb_result{};
  other.moved_ = true;
}

size_t Result::column_count() { return duckdb_column_count(&result_); }
size_t Result::row_count() { return duckdb_row_count(&result_); }
std::string Result::column_name(size_t column) { return duckdb_column_name(&result_, column); }

namespace {
bool IsNumericType(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

// The types duckdb_value_varchar renders as a cast to VARCHAR would.
bool ReadableAsText(duckdb_type type) {
  return IsNumericType(type) || type == DUCKDB_TYPE_BOOLEAN || type == DUCKDB_TYPE_VARCHAR ||
         type == DUCKDB_TYPE_DATE || type == DUCKDB_TYPE_TIME || type == DUCKDB_TYPE_TIMESTAMP;
}
}  // namespace

bool Result::is_numeric(size_t column) {
  return IsNumericType(duckdb_column_type(&result_, column));
}

std::optional<std::string> Result::Get(size_t column, size_t row) {
  if (duckdb_value_is_null(&result_, column, row)) return std::nullopt;
  char* text = duckdb_value_varchar(&result_, column, row);
  std::string out = text ? text : "";
  duckdb_free(text);
  return out;
}

std::string Result::GetOr(size_t column, size_t row, const std::string& fallback) {
  auto v = Get(column, row);
  return v ? *v : fallback;
}

int64_t Result::GetInt(size_t column, size_t row) {
  return duckdb_value_int64(&result_, column, row);
}

Database::Database(const std::string& path, int threads) {
  duckdb_config config;
  duckdb_create_config(&config);
  if (threads > 0) duckdb_set_config(config, "threads", std::to_string(threads).c_str());
  char* error = nullptr;
  auto state = duckdb_open_ext(path.empty() ? nullptr : path.c_str(), &db_, config, &error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string message = error ? error : "unknown error";
    duckdb_free(error);
    FailWithCode(ErrorKind::kIo, "io.engine", "cannot open DuckDB database {}: {}",
                 path.empty() ? "(memory)" : path, message);
  }
  // Sluice's own SQL functions, for every connection: sluice_match (engine/pattern.h),
  // sluice_duplicates (engine/duplicates.h), sluice_stddev_samp and sluice_corr
  // (engine/moments.h).
  Connection conn(*this);
  RegisterPatternMatch(conn);
  RegisterDuplicates(conn);
  RegisterMoments(conn);
}

Database::~Database() { duckdb_close(&db_); }

Connection::Connection(Database& db) {
  if (duckdb_connect(db.handle(), &conn_) == DuckDBError) {
    FailWithCode(ErrorKind::kIo, "io.engine", "cannot connect to DuckDB");
  }
}

Connection::~Connection() { duckdb_disconnect(&conn_); }

namespace {
const char* StatementKeyword(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_SELECT:
      return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT:
      return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE:
      return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN:
      return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE:
      return "DELETE";
    case DUCKDB_STATEMENT_TYPE_CREATE:
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC:
      return "CREATE";
    case DUCKDB_STATEMENT_TYPE_ALTER:
      return "ALTER";
    case DUCKDB_STATEMENT_TYPE_COPY:
      return "COPY";
    case DUCKDB_STATEMENT_TYPE_DROP:
      return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT:
      return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA:
      return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_SET:
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET:
      return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD:
      return "INSTALL/LOAD";
    case DUCKDB_STATEMENT_TYPE_ATTACH:
      return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH:
      return "DETACH";
    case DUCKDB_STATEMENT_TYPE_CALL:
      return "CALL";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION:
      return "transaction control";
    default:
      return "this kind of statement";
  }
}

[[noreturn]] void ThrowFromResult(duckdb_result& result) {
  std::string message = duckdb_result_error(&result) ? duckdb_result_error(&result) : "unknown";
  duckdb_error_type type = duckdb_result_error_type(&result);
  duckdb_destroy_result(&result);
  // Errors about the data itself (conversion, constraint) are input errors; the rest are the
  // statement's (the caller's SQL or Sluice's).
  if (type == DUCKDB_ERROR_INTERNAL || type == DUCKDB_ERROR_FATAL) {
    throw Error(ErrorKind::kInternal, message);
  }
  if (type == DUCKDB_ERROR_IO || type == DUCKDB_ERROR_OUT_OF_MEMORY) {
    throw Error(ErrorKind::kIo, "io.engine", message);
  }
  throw Error(ErrorKind::kInput, "input.sql", message);
}
}  // namespace

std::string Printable(Connection& conn, const std::string& select) {
  duckdb_prepared_statement statement = nullptr;
  std::shared_ptr<void> destroy(nullptr, [&](void*) { duckdb_destroy_prepare(&statement); });
  if (duckdb_prepare(conn.handle(), select.c_str(), &statement) == DuckDBError) return select;
  std::vector<std::string> columns;
  bool cast = false;
  const idx_t count = duckdb_prepared_statement_column_count(statement);
  for (idx_t c = 0; c < count; ++c) {
    const char* name = duckdb_prepared_statement_column_name(statement, c);
    std::string as = SqlIdent(name ? name : "");
    if (ReadableAsText(duckdb_prepared_statement_column_type(statement, c))) {
      columns.push_back(fmt::format("#{} AS {}", c + 1, as));
    } else {
      cast = true;
      columns.push_back(fmt::format("CAST(#{} AS VARCHAR) AS {}", c + 1, as));
    }
  }
  if (!cast) return select;
  return fmt::format("SELECT {} FROM ({}\n) AS answer", Join(columns, ", "), select);
}

Result Connection::Query(const std::string& sql) {
  duckdb_result result;
  if (duckdb_query(conn_, sql.c_str(), &result) == DuckDBError) ThrowFromResult(result);
  return Result(result);
}

Result Connection::QueryWithProgress(const std::string& sql, const ProgressFn& progress,
                                     int interval_ms) {
  // DuckDB tracks progress only with its progress bar on; Sluice prints it itself.
  if (progress) Execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false;");
  duckdb_result result;
  std::mutex mu;
  std::condition_variable finished;
  bool done = false;
  duckdb_state state = DuckDBSuccess;
  std::thread worker([&] {
    duckdb_state s = duckdb_query(conn_, sql.c_str(), &result);
    std::lock_guard lock(mu);
    state = s;
    done = true;
    finished.notify_all();
  });
  bool interrupted = false;
  // Polls for interrupts often (a cancel or timeout takes effect fast) and reports progress
  // every interval_ms; a statement that ends sooner returns at once.
  const int poll_ms = std::min(interval_ms, 50);
  int64_t next_progress = MonotonicMs() + interval_ms;
  while (true) {
    {
      std::unique_lock lock(mu);
      if (finished.wait_for(lock, std::chrono::milliseconds(poll_ms), [&] { return done; })) {
        break;
      }
    }
    if (Interrupted() && !interrupted) {
      duckdb_interrupt(conn_);
      interrupted = true;
    }
    if (progress && MonotonicMs() >= next_progress) {
      next_progress += interval_ms;
      duckdb_query_progress_type p = duckdb_query_progress(conn_);
      if (p.percentage >= 0) progress(p.percentage);
    }
  }
  worker.join();
  if (state == DuckDBError && interrupted) {
    duckdb_destroy_result(&result);
    throw Error(ErrorKind::kInterrupted, "interrupted by the user");
  }
  if (state == DuckDBError) ThrowFromResult(result);
  return Result(result);
}

void Connection::Stream(const std::string& sql,
                        const std::function<void(duckdb_data_chunk)>& each_chunk) {
  ChunkStream stream(*this, sql);
  while (duckdb_data_chunk chunk = stream.Next()) each_chunk(chunk);
}

// duckdb_pending_prepared_streaming is the C API's only door to a streaming answer (marked for
// removal in favour of a successor that does not exist yet); duckdb_pending_prepared would
// materialize the whole answer before the first chunk.
ChunkStream::ChunkStream(Connection& conn, const std::string& sql) : conn_(conn.handle()) {
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(conn_, sql.c_str(), &prepared) == DuckDBError) {
    std::string message = duckdb_prepare_error(prepared) ? duckdb_prepare_error(prepared) : "";
    duckdb_destroy_prepare(&prepared);
    throw Error(ErrorKind::kInput, "input.sql", message);
  }
  duckdb_pending_result pending = nullptr;
  auto fail_pending = [&] {
    std::string message = duckdb_pending_error(pending) ? duckdb_pending_error(pending) : "";
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&prepared);
    if (Interrupted()) ThrowInterrupted();
    throw Error(ErrorKind::kInput, "input.sql", message);
  };
  if (duckdb_pending_prepared_streaming(prepared, &pending) == DuckDBError) fail_pending();
  // Runs the statement a task at a time until its first rows are ready (blocking operators such
  // as a sort finish here), so that an interrupt stops it between two tasks.
  while (true) {
    duckdb_pending_state state = duckdb_pending_execute_task(pending);
    if (duckdb_pending_execution_is_finished(state)) {
      if (state == DUCKDB_PENDING_ERROR) fail_pending();
      break;
    }
    if (Interrupted()) {
      duckdb_interrupt(conn_);
      duckdb_destroy_pending(&pending);
      duckdb_destroy_prepare(&prepared);
      ThrowInterrupted();
    }
    // Other threads hold all the work left: wait for them rather than spin.
    if (state == DUCKDB_PENDING_NO_TASKS_AVAILABLE) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  duckdb_state executed = duckdb_execute_pending(pending, &result_);
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&prepared);
  if (executed == DuckDBError) {
    if (Interrupted()) {
      duckdb_destroy_result(&result_);
      ThrowInterrupted();
    }
    ThrowFromResult(result_);
  }
  has_result_ = true;
}

ChunkStream::~ChunkStream() { Release(); }

void ChunkStream::Release() {
  if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  chunk_ = nullptr;
  if (has_result_) duckdb_destroy_result(&result_);
  has_result_ = false;
}

void ChunkStream::ThrowInterrupted() {
  Release();
  throw Error(ErrorKind::kInterrupted, "interrupted by the user");
}

size_t ChunkStream::column_count() { return duckdb_column_count(&result_); }
std::string ChunkStream::column_name(size_t column) { return duckdb_column_name(&result_, column); }
duckdb_type ChunkStream::column_type(size_t column) { return duckdb_column_type(&result_, column); }

duckdb_data_chunk ChunkStream::Next() {
  if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  chunk_ = nullptr;
  if (!has_result_) return nullptr;
  if (Interrupted()) {
    duckdb_interrupt(conn_);
    ThrowInterrupted();
  }
  while (true) {
    chunk_ = duckdb_fetch_chunk(result_);
    if (chunk_ == nullptr) {
      if (duckdb_result_error(&result_) != nullptr) {
        has_result_ = false;
        if (Interrupted()) {
          duckdb_destroy_result(&result_);
          ThrowInterrupted();
        }
        ThrowFromResult(result_);
      }
      Release();
      return nullptr;
    }
    if (duckdb_data_chunk_get_size(chunk_) > 0) return chunk_;
    duckdb_destroy_data_chunk(&chunk_);
  }
}

std::vector<StatementInfo> Connection::Inspect(const std::string& sql) {
  duckdb_extracted_statements statements = nullptr;
  idx_t count = duckdb_extract_statements(conn_, sql.c_str(), &statements);
  std::vector<StatementInfo> out;
  if (count == 0) {
    std::string message = duckdb_extract_statements_error(statements);
    duckdb_destroy_extracted(&statements);
    throw Error(ErrorKind::kInput, "input.sql", message);
  }
  for (idx_t i = 0; i < count; ++i) {
    duckdb_prepared_statement prepared = nullptr;
    StatementInfo info{StatementKind::kOther, ""};
    if (duckdb_prepare_extracted_statement(conn_, statements, i, &prepared) == DuckDBError) {
      std::string message = duckdb_prepare_error(prepared);
      duckdb_destroy_prepare(&prepared);
      duckdb_destroy_extracted(&statements);
      throw Error(ErrorKind::kInput, "input.sql", message);
    }
    auto type = duckdb_prepared_statement_type(prepared);
    if (type == DUCKDB_STATEMENT_TYPE_SELECT) info.kind = StatementKind::kSelect;
    if (type == DUCKDB_STATEMENT_TYPE_EXPLAIN) info.kind = StatementKind::kExplain;
    info.keyword = StatementKeyword(type);
    duckdb_destroy_prepare(&prepared);
    out.push_back(info);
  }
  duckdb_destroy_extracted(&statements);
  return out;
}

std::string WithoutQuote(const std::string& message) {
  return message.substr(0, message.find("\n\nLINE "));
}

bool HasFunction(Connection& conn, const std::string& name, const std::string& type) {
  return conn.Query(fmt::format("SELECT count(*) FROM duckdb_functions() WHERE function_name = {} "
                                "AND function_type = {}",
                                SqlString(name), SqlString(type)))
             .GetInt(0, 0) > 0;
}

}  // namespace sluice::engine
