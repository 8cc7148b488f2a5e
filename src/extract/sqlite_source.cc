// A SQLite source database (extract/database.h): a file opened read-only.
#include <fmt/format.h>
#include <sqlite3.h>

#include <cctype>
#include <cmath>
#include <regex>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/strings.h"
#include "extract/database.h"

namespace sluice::extract {
namespace {

using json = nlohmann::json;

// How a column declared `declared` lands. SQLite keeps each value with its own storage class;
// the declared type says what the column holds (SQLite's affinity rules, then the names people
// declare dates, booleans and decimals with). A value that does not fit fails the run
// (extract.bad_value), never lands changed.
Column Map(const std::string& name, const std::string& declared) {
  Column c{name, declared.empty() ? "(none)" : declared, "VARCHAR", "", false};
  const std::string t = ToUpper(declared);
  static const std::regex decimal(R"((DECIMAL|NUMERIC)\s*\(\s*(\d{1,2})\s*(,\s*(\d{1,2})\s*)?\))");
  std::smatch m;
  if (t.find("INT") != std::string::npos) {
    c.lake_type = "BIGINT";
  } else if (t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
             t.find("TEXT") != std::string::npos) {
    c.lake_type = "VARCHAR";
  } else if (t.find("BLOB") != std::string::npos) {
    c.lake_type = "BLOB";
    c.hex = true;
    c.convert = "from_hex(substr({0}, 3))";
  } else if (t.find("REAL") != std::string::npos || t.find("FLOA") != std::string::npos ||
             t.find("DOUB") != std::string::npos) {
    c.lake_type = "DOUBLE";
  } else if (std::regex_match(t, m, decimal)) {
    int p = std::stoi(m[2].str());
    int s = m[4].matched ? std::stoi(m[4].str()) : 0;
    if (p >= 1 && p <= 38 && s <= p) c.lake_type = fmt::format("DECIMAL({},{})", p, s);
  } else if (t == "BOOLEAN" || t == "BOOL") {
    c.lake_type = "BOOLEAN";
  } else if (t == "DATETIME" || t == "TIMESTAMP") {
    c.lake_type = "TIMESTAMP";
    // DuckDB's cast would drop a zone offset (10:00+02:00 as 10:00): such a value fails.
    c.convert = fmt::format(
        R"(CASE WHEN regexp_matches({{0}}, '\d:\d\d(:\d\d(\.\d*)?)?\s*([Zz]|[+-]\d\d(:?\d\d)?)$') )"
        "THEN error({} || {{0}} || {}) ELSE CAST({{0}} AS TIMESTAMP) END",
        ConvertText(SqlString(fmt::format("column {} holds a time with a zone offset (", name))),
        ConvertText(
            SqlString(fmt::format("): a {} column lands as TIMESTAMP, without a zone; convert "
                                  "the values in a query:",
                                  declared))));
  } else if (t == "DATE") {
    c.lake_type = "DATE";
    // DuckDB's cast would drop a time of day (2026-01-01 10:00 as 2026-01-01): such a value
    // fails.
    c.convert = fmt::format(
        "CASE WHEN NOT regexp_matches({{0}}, {}) THEN error({} || {{0}} || {}) ELSE CAST({{0}} AS "
        "DATE) END",
        ConvertText(SqlString(R"(^\s*-?\d{4,}-\d\d?-\d\d?\s*$)")),
        ConvertText(SqlString(fmt::format("column {} holds no date but '", name))),
        ConvertText(SqlString(fmt::format("': a {} column lands as DATE, YYYY-MM-DD; convert the "
                                          "values in a query:",
                                          declared))));
  }
  return c;
}

class SqliteSource : public SourceDatabase {
 public:
  explicit SqliteSource(const fs::path& file) : file_(file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      FailWithCode(ErrorKind::kConfig, "extract.database", "SQLite database {} {}", file.string(),
                   fs::exists(file, ec) ? "is not a file"
                                        : "does not exist (a relative path is "
                                          "relative to the project folder)");
    }
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      Throw("cannot open");
    }
    sqlite3_busy_timeout(db_, 10'000);
    // A query that works long without returning rows still stops at Ctrl-C.
    sqlite3_progress_handler(
        db_, 10'000, [](void*) { return Interrupted() ? 1 : 0; }, nullptr);
    Exec("PRAGMA query_only = 1");
    Exec("BEGIN");  // one snapshot for Describe and every Read
  }
  ~SqliteSource() override {
    if (db_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close_v2(db_);
    }
  }

  std::vector<Column> Describe(const std::string& relation) override {
    Statement st(*this, fmt::format("SELECT * FROM {} LIMIT 0", relation), /*listing=*/true);
    std::vector<Column> columns;
    for (int i = 0; i < sqlite3_column_count(st.stmt); ++i) {
      const char* declared = sqlite3_column_decltype(st.stmt, i);
      columns.push_back(Map(sqlite3_column_name(st.stmt, i), declared ? declared : ""));
    }
    Step(st);
    return columns;
  }

  std::vector<json> Read(const std::string& select, const std::vector<Column>& columns,
                         const std::vector<size_t>& bound,
                         const std::function<void(std::string_view row)>& row) override {
    Statement st(*this, select);
    const int n = sqlite3_column_count(st.stmt);
    std::string line;
    std::vector<json> last;
    int64_t rows = 0;
    while (Step(st)) {
      if (++rows % 10'000 == 0 && Interrupted()) {
        Fail(ErrorKind::kInterrupted, "extraction interrupted");
      }
      line.clear();
      for (int i = 0; i < n; ++i) {
        if (i > 0) line += ',';
        Append(line, st.stmt, i, columns[i]);
      }
      line += '\n';
      row(line);
      if (!bound.empty()) {
        last.clear();
        for (size_t i : bound) last.push_back(Bound(st.stmt, static_cast<int>(i)));
      }
    }
    return last;
  }

 private:
  struct Statement {
    // `listing`: a missing table is named with the tables there are.
    Statement(SqliteSource& source, const std::string& sql, bool listing = false) {
      if (sqlite3_prepare_v2(source.db_, sql.c_str(), static_cast<int>(sql.size()), &stmt,
                             nullptr) != SQLITE_OK) {
        std::string message = sqlite3_errmsg(source.db_);
        if (listing && StartsWith(message, "no such table")) {
          FailWithCode(ErrorKind::kConfig, "extract.database",
                       "SQLite database {}: {}; its tables: {}", source.file_.string(), message,
                       source.Tables());
        }
        source.Throw("cannot run the query (it must be one SELECT)");
      }
    }
    ~Statement() { sqlite3_finalize(stmt); }
    sqlite3_stmt* stmt = nullptr;
  };

  bool Step(Statement& st) {
    int rc = sqlite3_step(st.stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_INTERRUPT) Fail(ErrorKind::kInterrupted, "extraction interrupted");
    Throw("cannot read");
  }

  // The database's tables and views, for a message: at most 20.
  std::string Tables() {
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::string> names;
    if (sqlite3_prepare_v2(db_,
                           "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND "
                           "name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 21",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        names.push_back(names.size() == 20
                            ? "..."
                            : reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
    return names.empty() ? "none" : Join(names, ", ");
  }

  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Throw("cannot open");
  }

  [[noreturn]] void Throw(const char* what) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    int code = db_ ? sqlite3_errcode(db_) : SQLITE_NOMEM;
    bool config = code == SQLITE_ERROR || code == SQLITE_NOTADB || code == SQLITE_CANTOPEN;
    FailWithCode(config ? ErrorKind::kConfig : ErrorKind::kIo, "extract.database",
                 "SQLite database {}: {}: {}", file_.string(), what, message);
  }

  // A value as Read's CSV line holds it. SQLite keeps each value with its own storage class;
  // one that does not fit its column's lake type fails rather than land changed (DuckDB would
  // read the text 0x10 as 16 into a BIGINT, and any text as hex digits into a BLOB).
  void Append(std::string& line, sqlite3_stmt* stmt, int i, const Column& column) {
    const int type = sqlite3_column_type(stmt, i);
    if (type == SQLITE_NULL) return;
    if (column.hex) {
      if (type != SQLITE_BLOB && type != SQLITE_TEXT) Misfit(column, "a number");
      static const char* digits = "0123456789abcdef";
      const auto* p = static_cast<const unsigned char*>(
          type == SQLITE_BLOB ? sqlite3_column_blob(stmt, i) : sqlite3_column_text(stmt, i));
      int size = sqlite3_column_bytes(stmt, i);
      line += "\"\\x";
      for (int k = 0; k < size; ++k) {
        line += digits[p[k] >> 4];
        line += digits[p[k] & 15];
      }
      line += '"';
      return;
    }
    switch (type) {
      case SQLITE_INTEGER:
        line += std::to_string(sqlite3_column_int64(stmt, i));
        return;
      case SQLITE_FLOAT:
        line += fmt::format("{}", sqlite3_column_double(stmt, i));
        return;
      case SQLITE_BLOB:
        Misfit(column, "a BLOB");
      default: {
        const std::string& t = column.lake_type;
        if (t == "BIGINT" || t == "DOUBLE" || StartsWith(t, "DECIMAL")) Misfit(column, "a text");
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        int size = sqlite3_column_bytes(stmt, i);
        line += '"';
        for (int k = 0; k < size; ++k) {
          if (p[k] == '"') line += '"';
          line += p[k];
        }
        line += '"';
      }
    }
  }

  [[noreturn]] void Misfit(const Column& column, const char* what) {
    FailWithCode(ErrorKind::kInput, "extract.bad_value",
                 "SQLite database {}: column {} (declared {}, landing as {}) holds {}; convert "
                 "it in a query: or fix the row",
                 file_.string(), column.name, column.source_type, column.lake_type, what);
  }

  json Bound(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return sqlite3_column_int64(stmt, i);
      case SQLITE_FLOAT: {
        double v = sqlite3_column_double(stmt, i);
        if (std::isfinite(v)) return v;
        break;  // no literal compares with it
      }
      case SQLITE_TEXT: {
        std::string v(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                      sqlite3_column_bytes(stmt, i));
        if (v.find('\0') == std::string::npos) return v;
        break;  // no literal holds it
      }
      default:
        break;
    }
    FailWithCode(ErrorKind::kInput, "extract.bad_key",
                 "SQLite database {}: the last row read has {} in column {} (the cursor or "
                 "a key): every row needs both, as a number or a text; filter such rows "
                 "out in a query: (WHERE {} IS NOT NULL) or choose another key (nothing "
                 "landed)",
                 file_.string(),
                 sqlite3_column_type(stmt, i) == SQLITE_NULL   ? "NULL"
                 : sqlite3_column_type(stmt, i) == SQLITE_BLOB ? "a BLOB"
                 : sqlite3_column_type(stmt, i) == SQLITE_TEXT ? "a text with a NUL byte"
                                                               : "an infinite number",
                 sqlite3_column_name(stmt, i), SqlIdent(sqlite3_column_name(stmt, i)));
  }

  fs::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<SourceDatabase> OpenSqliteSource(const fs::path& file) {
  return std::make_unique<SqliteSource>(file);
}

}  // namespace sluice::extract
