// The embedded warehouse: a DuckDB file. Loads read the lake's files in the warehouse's own
// engine (no copy through text), and its types are the catalog's.
#include "warehouse/duckdb_warehouse.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "catalog/query.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "common/strings.h"
#include "common/time.h"
#include "engine/engine.h"
#include "engine/sql_shape.h"

namespace sluice::warehouse {
namespace {

// DuckDB's lock on a file is a POSIX lock, which does not keep out a second opener in the same
// process: within a process, one mutex per file keeps its one writer (a load during `sluice
// serve` waits for the run's load instead of opening the file twice).
std::mutex& ProcessLock(const std::string& path) {
  static std::mutex guard;
  static std::map<std::string, std::unique_ptr<std::mutex>> locks;
  std::lock_guard lock(guard);
  auto& m = locks[path];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

// Integer types and their most decimal digits; unsigned ones hold no negative value.
struct IntegerType {
  int digits;
  bool is_unsigned;
};
std::optional<IntegerType> IntegerOf(const std::string& type) {
  static const std::map<std::string, IntegerType> integers = {
      {"TINYINT", {3, false}},  {"SMALLINT", {5, false}}, {"INTEGER", {10, false}},
      {"BIGINT", {19, false}},  {"HUGEINT", {39, false}}, {"UTINYINT", {3, true}},
      {"USMALLINT", {5, true}}, {"UINTEGER", {10, true}}, {"UBIGINT", {20, true}},
      {"UHUGEINT", {39, true}}};
  if (auto it = integers.find(type); it != integers.end()) return it->second;
  return std::nullopt;
}

// DECIMAL(p,s) as its precision and scale; false for any other type.
bool DecimalOf(const std::string& type, int& precision, int& scale) {
  return std::sscanf(type.c_str(), "DECIMAL(%d,%d)", &precision, &scale) == 2;
}

// Whether every value of DuckDB type `from` is a value of `to` (as PostgresWidens, for the
// DuckDB spelling): a wider integer or decimal, FLOAT -> DOUBLE, anything -> VARCHAR. Not
// integers or decimals -> floats: a DOUBLE holds 15 significant digits, a BIGINT 19.
bool DuckdbWidens(const std::string& from, const std::string& to) {
  if (from == to) return false;
  if (to == "VARCHAR") return true;
  int p = 0, s = 0, p2 = 0, s2 = 0;
  if (auto f = IntegerOf(from)) {
    if (auto t = IntegerOf(to)) {
      if (f->is_unsigned == t->is_unsigned) return t->digits > f->digits;
      return f->is_unsigned && t->digits > f->digits;
    }
    return DecimalOf(to, p2, s2) && p2 - s2 >= f->digits;
  }
  if (DecimalOf(from, p, s)) return DecimalOf(to, p2, s2) && s2 >= s && p2 - s2 >= p - s;
  return from == "FLOAT" && to == "DOUBLE";
}

bool IsLockConflict(const Error& e) {
  std::string text = e.what();
  return text.find("Could not set lock") != std::string::npos ||
         text.find("Conflicting lock") != std::string::npos;
}

class DuckdbWarehouse : public Warehouse {
 public:
  DuckdbWarehouse(const fs::path& file, int64_t lock_timeout_ms)
      : path_(file.string()), held_(ProcessLock(path_), std::defer_lock) {
    int64_t deadline = NowMs() + lock_timeout_ms;
    while (!held_.try_lock()) {
      if (NowMs() >= deadline) Busy();
      if (Interrupted()) Fail(ErrorKind::kInterrupted, "interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    for (int64_t wait = 10;; wait = std::min<int64_t>(wait * 2, 500)) {
      try {
        db_ = std::make_unique<engine::Database>(path_);
        break;
      } catch (const Error& e) {
        if (!IsLockConflict(e)) {
          FailWithCode(ErrorKind::kIo, "warehouse.connect", "cannot open the warehouse {}: {}",
                       path_, e.what());
        }
        if (NowMs() >= deadline) Busy();
        if (Interrupted()) Fail(ErrorKind::kInterrupted, "interrupted");
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      }
    }
    conn_ = std::make_unique<engine::Connection>(*db_);
  }
  ~DuckdbWarehouse() override {
    if (in_transaction_) {
      try {
        conn_->Execute("ROLLBACK");
      } catch (const Error&) {
      }
    }
  }

  std::string kind() const override { return "duckdb"; }
  std::string where() const override { return path_; }

  std::optional<std::string> TypeFor(const std::string& catalog_type) const override {
    return catalog_type;
  }
  bool Widens(const std::string& from, const std::string& to) const override {
    return DuckdbWidens(from, to);
  }

  std::optional<std::vector<Column>> Columns(const Target& target) override {
    auto rows = Query(fmt::format(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = {} AND table_name = {} ORDER BY column_index",
        Literal(target.schema), Literal(target.table)));
    if (rows.empty()) return std::nullopt;
    std::vector<Column> out;
    for (auto& r : rows) out.push_back({r[0].value_or(""), r[1].value_or("")});
    return out;
  }

  int64_t Execute(const std::string& sql) override {
    auto result = Run(sql);
    if (result.column_count() == 1 && result.column_name(0) == "Count" && result.row_count() == 1) {
      return result.GetInt(0, 0);
    }
    return 0;
  }

  Rows Query(const std::string& sql) override {
    auto result = Run(sql);
    Rows out;
    for (size_t r = 0; r < result.row_count(); ++r) {
      std::vector<std::optional<std::string>> row;
      for (size_t c = 0; c < result.column_count(); ++c) row.push_back(result.Get(c, r));
      out.push_back(std::move(row));
    }
    return out;
  }

  Answer ReadQuery(const std::string& sql, int64_t timeout_ms, int64_t max_rows) override {
    std::string statement = catalog::CheckedStatement(*conn_, sql);
    Execute("SET enable_external_access = false");  // the warehouse's own tables, no file
    if (!StartsWith(ToUpper(Trim(statement)), "EXPLAIN")) {
      if (max_rows > 0) {
        // The text may end in a -- comment: the parenthesis goes on a line of its own.
        statement = fmt::format("SELECT * FROM ({}\n) AS answer LIMIT {}", statement, max_rows + 1);
      }
      statement = engine::Printable(*conn_, statement);
    }
    std::atomic<bool> stop{false};
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread timer([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done; })) {
        stop = true;
      }
    });
    auto finish = [&] {
      {
        std::lock_guard lock(m);
        done = true;
      }
      cv.notify_all();
      timer.join();
    };
    Answer answer;
    try {
      ScopedStop scope(&stop);
      Execute("BEGIN TRANSACTION");
      in_transaction_ = true;
      auto result = Run(statement);
      CheckRowLimit(static_cast<int64_t>(result.row_count()), max_rows);
      for (size_t c = 0; c < result.column_count(); ++c) {
        answer.columns.push_back(result.column_name(c));
        answer.numeric.push_back(result.is_numeric(c));
      }
      for (size_t r = 0; r < result.row_count(); ++r) {
        std::vector<std::optional<std::string>> row;
        for (size_t c = 0; c < result.column_count(); ++c) row.push_back(result.Get(c, r));
        answer.rows.push_back(std::move(row));
      }
    } catch (const Error& e) {
      finish();
      if (e.kind() == ErrorKind::kInterrupted && stop) {
        FailWithCode(ErrorKind::kInput, "query.timeout",
                     "the query ran longer than its limit of {} s and was stopped\n"
                     "  hint: raise it with query: timeout in sluice.yaml, or narrow the query",
                     timeout_ms / 1000.0);
      }
      throw;
    }
    finish();
    Rollback();
    return answer;
  }

  int64_t Stage(const std::string& stage, const std::vector<Column>& columns,
                const std::string& select_sql, const std::vector<meta::Column>& catalog_columns,
                const std::function<void(int64_t rows)>& progress) override {
    std::vector<std::string> defs;
    for (const auto& c : columns) defs.push_back(Quote(c.name) + " " + c.type);
    Execute(fmt::format("CREATE TEMP TABLE {} ({})", Quote(stage), Join(defs, ", ")));
    return Send(Quote(stage), select_sql, catalog_columns, progress);
  }

  int64_t Send(const std::string& table_sql, const std::string& select_sql,
               const std::vector<meta::Column>& catalog_columns,
               const std::function<void(int64_t rows)>& progress) override {
    std::vector<std::string> names;
    for (const auto& c : catalog_columns) names.push_back(Quote(c.name));
    int64_t rows =
        Execute(fmt::format("INSERT INTO {} ({}) SELECT {} FROM ({}) AS source", table_sql,
                            Join(names, ", "), Join(names, ", "), select_sql));
    if (progress) progress(rows);
    return rows;
  }

  std::string CreateOptions(project::LoadMode) const override { return ""; }

  int64_t CreateTableAs(const Target& target, const std::string& query) override {
    auto parsed = engine::ParseSql(*conn_, query);
    if (parsed.statements != 1 || parsed.select.is_null()) {
      FailWithCode(ErrorKind::kInput, "input.sql",
                   "the text must be exactly one query (SELECT or WITH ...); it holds {}",
                   parsed.statements == 1 ? "a " + engine::FirstWord(query) + " statement"
                                          : fmt::format("{} statements", parsed.statements));
    }
    Execute("SET enable_external_access = false");  // the warehouse's own tables, no file
    return Execute(fmt::format("CREATE TABLE {} AS {}", target.sql(),
                               engine::WithoutTerminator(*conn_, query)));
  }

  std::string KeyIndex(const Target&, const std::string&,
                       const std::vector<std::string>&) const override {
    return "";
  }

  std::optional<Upserted> Upsert(const Target&, const std::string&, const std::vector<std::string>&,
                                 const std::vector<std::string>&) override {
    return std::nullopt;
  }

  void Begin() override {
    Execute("BEGIN TRANSACTION");
    in_transaction_ = true;
  }
  void Commit() override {
    in_transaction_ = false;
    Execute("COMMIT");
  }
  void Rollback() override {
    in_transaction_ = false;
    Execute("ROLLBACK");
  }
  void Lock(const Target&) override {}  // one writer per file already

 private:
  [[noreturn]] void Busy() {
    FailWithCode(ErrorKind::kConflict, "warehouse.busy",
                 "the warehouse {} is in use by another process (a load or a query); try again "
                 "when it is done",
                 path_);
  }

  engine::Result Run(const std::string& sql) {
    try {
      return conn_->QueryWithProgress(sql, nullptr);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kInterrupted) throw;
      throw Error(ErrorKind::kIo, "warehouse.query", engine::WithoutQuote(e.what()));
    }
  }

  std::string path_;
  std::unique_lock<std::mutex> held_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
  bool in_transaction_ = false;
};

}  // namespace

std::unique_ptr<Warehouse> OpenDuckdb(const fs::path& file, int64_t lock_timeout_ms) {
  return std::make_unique<DuckdbWarehouse>(file, lock_timeout_ms);
}

}  // namespace sluice::warehouse
