#include "extract/database.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/one_line.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "engine/engine.h"
#include "lake/zones.h"

namespace sluice::extract {
namespace {

using json = nlohmann::json;

// The longest row a chunk takes (DuckDB's reader needs a bound; a larger row fails the run).
constexpr int64_t kMaxRowBytes = int64_t{64} << 20;
// The column delete records are told apart by (`deletes: detect`).
constexpr const char* kDeletedColumn = "_sluice_deleted";
// The column every row of a database source carries: when its run started (UTC), so that the
// latest version of a row is the one with the greatest value (a delete record included).
constexpr const char* kExtractedAtColumn = "_sluice_extracted_at";

// The state a database source keeps between runs.
struct State {
  // The cursor and key values of the last row landed, as SourceDatabase::Read returned them;
  // empty before the first incremental run.
  std::vector<json> bound;
  std::vector<std::string> columns;  // the cursor's and key's names, as `bound` holds them
  std::string keys;                  // the lake key of the key set the last run read ("" none)

  static State Parse(const std::string& text) {
    State s;
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return s;
    if (j.contains("bound") && j["bound"].is_array()) s.bound = j["bound"].get<std::vector<json>>();
    if (j.contains("columns") && j["columns"].is_array()) {
      for (const auto& c : j["columns"]) {
        if (c.is_string()) s.columns.push_back(c.get<std::string>());
      }
    }
    if (j.contains("keys") && j["keys"].is_string()) s.keys = j["keys"].get<std::string>();
    return s;
  }
  std::string Dump() const {
    json j = {{"bound", bound}, {"columns", columns}, {"keys", keys}};
    if (!bound.empty()) j["cursor"] = bound.front();
    return j.dump();
  }
};

// A value Read returned, as the SQL literal that compares equal to it.
std::string Literal(const json& v) {
  if (v.is_string()) return SqlString(v.get<std::string>());
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  FailWithCode(ErrorKind::kInput, "extract.bad_key",
               "the cursor the last run kept holds {}, which no row compares with; run sluice "
               "extract with --full-refresh to start over",
               v.type_name());
}

std::string Relation(const project::DatabaseExtract& spec) {
  // The line end ends a `-- comment` the query may end with.
  if (!spec.query.empty()) return "(" + spec.query + "\n) AS s";
  std::vector<std::string> parts;
  for (const auto& p : Split(spec.table, '.')) parts.push_back(SqlIdent(p));
  return Join(parts, ".") + " AS s";
}

std::string What(const project::DatabaseExtract& spec) {
  return spec.table.empty() ? std::string("its query") : "table " + spec.table;
}

size_t IndexOf(const std::vector<Column>& columns, const std::string& name,
               const std::string& source, const project::DatabaseExtract& spec, const char* role) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  std::string near = Nearest(name, names);
  FailWithCode(ErrorKind::kConfig, "extract.bad_column",
               "source {}: {} '{}' is not a column of {}{}", source, role, name, What(spec),
               near.empty() ? "; its columns: " + Join(names, ", ")
                            : fmt::format("; did you mean '{}'?", near));
}

std::string SelectList(const std::vector<Column>& columns) {
  std::vector<std::string> items;
  for (const auto& c : columns) {
    items.push_back(c.select.empty() ? "s." + SqlIdent(c.name)
                                     : c.select + " AS " + SqlIdent(c.name));
  }
  return Join(items, ", ");
}

// DuckDB's message for a CSV chunk it cannot convert, as a user can read it: the column named as
// the source names it, without the row ("Original Line": it may hold personal data).
std::string ConversionProblem(const std::string& message, const std::vector<Column>& columns) {
  static const std::string kLead = "Error when converting column \"c";
  for (const auto& line : Split(message, '\n')) {
    if (line.rfind(kLead, 0) != 0) continue;
    size_t end = line.find('"', kLead.size());
    size_t i =
        end == std::string::npos
            ? columns.size()
            : std::strtoul(line.substr(kLead.size(), end - kLead.size()).c_str(), nullptr, 10);
    if (i >= columns.size()) break;
    std::string rest = Trim(line.substr(end + 1));
    if (!rest.empty() && rest.front() == '.') rest = Trim(rest.substr(1));
    return fmt::format("column {} ({} in the source, {} in the lake): {}",
                       SqlIdent(columns[i].name), columns[i].source_type, columns[i].lake_type,
                       rest);
  }
  // The first line that says what went wrong: never DuckDB's quote of the row ("Original Line",
  // which may hold personal data).
  std::string first;
  for (const auto& line : Split(engine::WithoutQuote(message), '\n')) {
    if (Trim(line).empty() || StartsWith(line, "Original Line") ||
        StartsWith(line, "CSV Error on Line")) {
      continue;
    }
    first = OneLine(line, 300);
    break;
  }
  for (const char* prefix : {"Invalid Input Error: ", "Conversion Error: "}) {
    if (StartsWith(first, prefix)) return first.substr(std::string_view(prefix).size());
  }
  return first;
}

// CSV rows of the source in files of `per_file` rows. A full file is converted to Parquet by a
// thread of its own while the next one fills (at most kPending wait), so that reading the source
// and writing Parquet overlap.
class Chunks {
 public:
  Chunks(engine::Database& duck, fs::path dir, std::string prefix, std::vector<Column> columns,
         int64_t per_file, std::vector<std::string> added, std::string source)
      : duck_(duck),
        dir_(std::move(dir)),
        prefix_(std::move(prefix)),
        columns_(std::move(columns)),
        per_file_(per_file),
        added_(std::move(added)),
        source_(std::move(source)),
        worker_([this] { Work(); }) {}

  ~Chunks() { Stop(); }

  void Add(std::string_view row) {
    if (static_cast<int64_t>(row.size()) > kMaxRowBytes) {
      FailWithCode(ErrorKind::kInput, "extract.bad_value",
                   "source {}: a row is larger than {}; Sluice lands rows of at most that size",
                   source_, HumanBytes(kMaxRowBytes));
    }
    if (!csv_.is_open()) {
      csv_path_ = dir_ / fmt::format("{}-{:05}.csv", prefix_, parquet_.size());
      csv_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      csv_.open(csv_path_, std::ios::binary | std::ios::trunc);
      if (!csv_) Fail(ErrorKind::kIo, "cannot create {}", csv_path_.string());
    }
    csv_.write(row.data(), static_cast<std::streamsize>(row.size()));
    longest_ = std::max(longest_, static_cast<int64_t>(row.size()));
    if (++rows_in_file_ == per_file_) Hand();
  }

  // Converts what is left and waits for every conversion; the Parquet files, in order.
  std::vector<fs::path> Close() {
    Hand();
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || error_; });
      if (error_) std::rethrow_exception(error_);
    }
    return parquet_;
  }

 private:
  static constexpr size_t kPending = 2;

  struct Job {
    fs::path csv, out;
    int64_t longest = 0;  // bytes of its longest row
  };

  // Hands the full CSV file to the converter, waiting while kPending files wait already.
  void Hand() {
    if (!csv_.is_open()) return;
    csv_.close();
    if (!csv_) Fail(ErrorKind::kIo, "cannot write {}", csv_path_.string());
    fs::path out = dir_ / fmt::format("{}-{:05}.parquet", prefix_, parquet_.size());
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return queue_.size() < kPending || error_; });
    if (error_) std::rethrow_exception(error_);
    queue_.push_back({csv_path_, out, longest_});
    parquet_.push_back(out);
    rows_in_file_ = 0;
    longest_ = 0;
    changed_.notify_all();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      changed_.notify_all();
    }
    if (worker_.joinable()) worker_.join();
  }

  void Work() {
    engine::Connection conn(duck_);
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_ || error_) return;
        job = queue_.front();
        queue_.pop_front();
        busy_ = true;
      }
      std::exception_ptr error;
      try {
        Convert(conn, job);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mu_);
      busy_ = false;
      if (error && !error_) error_ = error;
      changed_.notify_all();
    }
  }

  // DuckDB's reader holds a buffer of buffer_size, which must take the longest line: sized to
  // the chunk's longest row, so that memory stays small unless a row is large.
  void Convert(engine::Connection& conn, const Job& job) {
    const int64_t line = std::max<int64_t>(job.longest + 1, int64_t{2} << 20);
    std::vector<std::string> types, items;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      std::string field = fmt::format("c{}", i);
      types.push_back(
          fmt::format("'{}': '{}'", field, c.convert.empty() ? c.lake_type : "VARCHAR"));
      std::string quoted = "\"" + field + "\"";
      items.push_back(fmt::format(
          "{} AS {}", c.convert.empty() ? quoted : fmt::format(fmt::runtime(c.convert), quoted),
          SqlIdent(c.name)));
    }
    items.insert(items.end(), added_.begin(), added_.end());
    std::string sql = fmt::format(
        "COPY (SELECT {} FROM read_csv({}, columns = {{{}}}, header = false, delim = ',', "
        "quote = '\"', escape = '\"', allow_quoted_nulls = false, nullstr = '', auto_detect = "
        "false, max_line_size = {}, buffer_size = {})) TO {} (FORMAT parquet, COMPRESSION zstd)",
        Join(items, ", "), SqlString(job.csv.string()), Join(types, ", "), line,
        std::max<int64_t>(2 * line, int64_t{16} << 20), SqlString(job.out.string()));
    try {
      conn.Execute(sql);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kInterrupted) throw;
      FailWithCode(ErrorKind::kInput, "extract.bad_value",
                   "source {}: a value of the source does not land as its column's type: {}",
                   source_, ConversionProblem(e.what(), columns_));
    }
    std::error_code ec;
    fs::remove(job.csv, ec);
  }

  engine::Database& duck_;
  fs::path dir_;
  std::string prefix_;
  std::vector<Column> columns_;
  int64_t per_file_;
  std::vector<std::string> added_;  // select items after the source's columns
  std::string source_;
  std::vector<char> buffer_ = std::vector<char>(size_t{1} << 20);  // csv_'s: fewer write calls
  std::ofstream csv_;
  fs::path csv_path_;
  int64_t rows_in_file_ = 0, longest_ = 0;
  std::vector<fs::path> parquet_;
  // Shared with the converter.
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;  // last: it starts once everything above is built
};

// `initial_value` as the literal the cursor column compares with: read as the column's lake type
// and written in its canonical text (a number unquoted), so that a database comparing texts
// (SQLite) compares like values. Throws extract.initial_value when it is not such a value.
std::string InitialLiteral(engine::Connection& duck, const project::DatabaseExtract& spec,
                           const Column& cursor, const std::string& source) {
  const std::string& type = cursor.lake_type;
  // A SQLite column without a declared type holds numbers and texts alike, and SQLite orders
  // every number before every text: a number is compared as one.
  if (type == "VARCHAR" && cursor.source_type == "(none)") {
    auto r = duck.Query(fmt::format("SELECT CAST(TRY_CAST({} AS DOUBLE) AS VARCHAR)",
                                    SqlString(spec.initial_value)));
    if (auto number = r.Get(0, 0);
        number && !spec.initial_value.empty() &&
        spec.initial_value.find_first_not_of("0123456789.-+eE") == std::string::npos) {
      return spec.initial_value;
    }
  }
  if (type == "VARCHAR" || type == "BLOB") return SqlString(spec.initial_value);
  auto r = duck.Query(fmt::format("SELECT CAST(TRY_CAST({} AS {}) AS VARCHAR)",
                                  SqlString(spec.initial_value), type));
  auto text = r.Get(0, 0);
  if (!text) {
    FailWithCode(ErrorKind::kConfig, "extract.initial_value",
                 "source {}: initial_value '{}' is not a {} value, the type of the cursor {} ({} "
                 "in the source)",
                 source, spec.initial_value, type, cursor.name, cursor.source_type);
  }
  // A time with a zone keeps its text (the database reads the offset); the others their
  // canonical form.
  if (type == "TIMESTAMPTZ") return SqlString(spec.initial_value);
  static const std::set<std::string> numbers = {"BIGINT",   "INTEGER", "SMALLINT",
                                                "UINTEGER", "DOUBLE",  "FLOAT"};
  if (numbers.count(type) || StartsWith(type, "DECIMAL")) return *text;
  return SqlString(*text);
}

}  // namespace

std::string ConvertText(std::string text) {
  ReplaceAll(text, "{", "{{");
  ReplaceAll(text, "}", "}}");
  return text;
}

std::unique_ptr<SourceDatabase> OpenSourceDatabase(const project::DatabaseExtract& spec,
                                                   const fs::path& root) {
  if (spec.kind == project::DatabaseExtract::Kind::kPostgres) return OpenPostgresSource(spec.uri);
  fs::path file = fs::path(spec.sqlite).is_absolute() ? fs::path(spec.sqlite) : root / spec.sqlite;
  return OpenSqliteSource(file);
}

std::vector<std::optional<std::string>> ParseCsvRow(std::string_view line) {
  std::vector<std::optional<std::string>> fields;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      std::string value;
      ++i;
      while (true) {
        if (i >= line.size()) {
          FailWithCode(ErrorKind::kInput, "extract.bad_row", "a CSV row ends inside quotes");
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += line[i++];
      }
      fields.emplace_back(std::move(value));
      if (i == line.size()) break;
      if (line[i] != ',') {
        FailWithCode(ErrorKind::kInput, "extract.bad_row",
                     "a CSV row has text after a quoted field (at byte {})", i);
      }
      ++i;
    } else {
      size_t end = line.find(',', i);
      std::string_view value = line.substr(i, end == std::string_view::npos ? end : end - i);
      if (value.find('"') != std::string_view::npos) {
        FailWithCode(ErrorKind::kInput, "extract.bad_row",
                     "a CSV row has a quote inside an unquoted field (at byte {})", i);
      }
      if (value.empty()) {
        fields.emplace_back(std::nullopt);
      } else {
        fields.emplace_back(std::string(value));
      }
      if (end == std::string_view::npos) break;
      i = end + 1;
    }
  }
  return fields;
}

Pulled PullDatabase(transform::Workspace& ws, const std::string& name,
                    const project::DatabaseExtract& spec, const std::string& state_text,
                    const std::string& run_tag, const fs::path& scratch,
                    const ExtractOptions& options, ExtractReport& report) {
  State last = State::Parse(state_text);
  const std::string extracted_at = fmt::format("TIMESTAMPTZ {} AS {}", SqlString(Rfc3339(NowMs())),
                                               SqlIdent(kExtractedAtColumn));
  auto db = OpenSourceDatabase(spec, ws.project.root);
  const std::string relation = Relation(spec);
  std::vector<Column> columns = db->Describe(relation);
  if (columns.empty()) {
    FailWithCode(ErrorKind::kConfig, "extract.bad_column", "source {}: {} has no columns", name,
                 What(spec));
  }
  std::map<std::string, std::string> seen;  // lower-case name: the name
  for (const auto& c : columns) {
    // Parquet readers and DuckDB take names case-blind: "ID" and "id" are one column there.
    const std::string lower = ToLower(c.name);
    if (c.name.empty() || !seen.emplace(lower, c.name).second) {
      FailWithCode(ErrorKind::kConfig, "extract.bad_column",
                   "source {}: {} has {}; the lake tells columns apart by their names, case "
                   "ignored: rename them in a query:",
                   name, What(spec),
                   c.name.empty() ? "a column without a name"
                                  : fmt::format("the columns '{}' and '{}'", seen[lower], c.name));
    }
    if (lower == "extracted_at" || lower == kExtractedAtColumn ||
        (spec.detect_deletes && lower == kDeletedColumn)) {
      FailWithCode(ErrorKind::kConfig, "extract.bad_column",
                   "source {}: {} has a column `{}`, a name Sluice lands its own values under; "
                   "rename it in a query: (SELECT ..., {} AS other_name FROM ...)",
                   name, What(spec), c.name, SqlIdent(c.name));
    }
  }
  std::vector<size_t> bound;
  if (!spec.cursor.empty()) bound.push_back(IndexOf(columns, spec.cursor, name, spec, "cursor"));
  std::vector<size_t> key_columns;
  for (const auto& k : spec.key) key_columns.push_back(IndexOf(columns, k, name, spec, "key"));
  if (!spec.cursor.empty()) bound.insert(bound.end(), key_columns.begin(), key_columns.end());

  // One DuckDB thread: the conversion of a chunk overlaps with the stream of the next, and the
  // database server (often on the same machine) needs the other cores. On 2 cores, 2 threads
  // made the run 1.67x psql's \copy, 1 thread 1.21x (bench/extract).
  engine::Database duck_db("", 1);
  engine::Connection duck(duck_db);
  duck.Execute("SET temp_directory = " + SqlString((scratch / "duckdb.tmp").string()));

  // Which rows: those after the last row landed, in (cursor, key) order.
  std::string where;
  std::vector<std::string> order;
  for (size_t i : bound) order.push_back("s." + SqlIdent(columns[i].name));
  if (!bound.empty() && !last.bound.empty() && !options.full_refresh) {
    std::vector<std::string> now;
    for (size_t i : bound) now.push_back(columns[i].name);
    if (last.bound.size() != bound.size() || (!last.columns.empty() && last.columns != now)) {
      FailWithCode(ErrorKind::kConfig, "extract.bad_column",
                   "source {}: its cursor and key changed since the last run (from [{}] to "
                   "[{}]); run sluice extract {} --full-refresh to start over",
                   name, Join(last.columns, ", "), Join(now, ", "), name);
    }
    std::vector<std::string> literals;
    for (const auto& v : last.bound) literals.push_back(Literal(v));
    where = fmt::format(" WHERE ({}) > ({})", Join(order, ", "), Join(literals, ", "));
  } else if (!bound.empty() && !spec.initial_value.empty()) {
    where = fmt::format(" WHERE {} >= {}", order.front(),
                        InitialLiteral(duck, spec, columns[bound.front()], name));
  } else if (!bound.empty()) {
    where = fmt::format(" WHERE {} IS NOT NULL", order.front());
  }
  std::string select = fmt::format("SELECT {} FROM {}{}", SelectList(columns), relation, where);
  if (!order.empty()) select += " ORDER BY " + Join(order, ", ");

  std::vector<std::string> added = {extracted_at};
  if (spec.detect_deletes) added.push_back(fmt::format("false AS {}", SqlIdent(kDeletedColumn)));
  Chunks chunks(duck_db, scratch, "rows", columns, spec.chunk_rows, added, name);
  auto each_row = [&](std::string_view row) {
    chunks.Add(row);
    if (++report.rows % 10'000 == 0) {
      if (Interrupted()) Fail(ErrorKind::kInterrupted, "extraction interrupted");
      if (options.progress && report.rows % spec.chunk_rows == 0) options.progress(report.rows);
    }
  };
  std::vector<json> next = db->Read(select, columns, bound, each_row);
  report.requests = 1;
  Pulled pulled;
  pulled.extension = "parquet";
  pulled.files = chunks.Close();
  State state = last;
  if (!next.empty()) {
    state.bound = next;
    state.columns.clear();
    for (size_t i : bound) state.columns.push_back(columns[i].name);
  }
  if (options.full_refresh && next.empty()) state.bound.clear();
  pulled.commit_state = state.bound != last.bound || state.columns != last.columns;

  // Every row of the run has its own key: two versions of a row in one run could not be told
  // apart downstream.
  if (!key_columns.empty() && !pulled.files.empty()) {
    std::vector<std::string> paths, keys;
    for (const auto& f : pulled.files) paths.push_back(f.string());
    for (const auto& k : spec.key) keys.push_back(SqlIdent(k));
    auto repeated = duck.Query(fmt::format(
        "SELECT {0}, count(*) FROM read_parquet({1}) GROUP BY ALL HAVING count(*) > 1 LIMIT 1",
        Join(keys, ", "), SqlStringList(paths)));
    std::vector<std::string> null_tests;
    for (const auto& k : keys) null_tests.push_back(k + " IS NULL");
    int64_t nulls = duck.Query(fmt::format("SELECT count(*) FROM read_parquet({}) WHERE {}",
                                           SqlStringList(paths), Join(null_tests, " OR ")))
                        .GetInt(0, 0);
    if (nulls > 0) {
      FailWithCode(ErrorKind::kInput, "extract.bad_key",
                   "source {}: {} row(s) read have NULL in a key column ({}); the key must "
                   "identify each row: filter them out in a query: (WHERE ... IS NOT NULL) or "
                   "choose another key (nothing landed)",
                   name, nulls, Join(spec.key, ", "));
    }
    if (repeated.row_count() > 0) {
      std::vector<std::string> values;
      for (size_t i = 0; i < spec.key.size(); ++i) {
        values.push_back(fmt::format("{} = {}", spec.key[i], repeated.GetOr(i, 0, "NULL")));
      }
      FailWithCode(ErrorKind::kInput, "extract.bad_key",
                   "source {}: key [{}] is not unique: {} rows read share {}; the key must "
                   "identify each row of {} (nothing landed)",
                   name, Join(spec.key, ", "), repeated.GetInt(spec.key.size(), 0),
                   Join(values, ", "), What(spec));
    }
  }

  // Deletes: the keys the run before read that are gone now.
  int64_t deletes = 0;
  std::string key_set_note;
  if (spec.detect_deletes) {
    std::vector<Column> key_cols;
    for (size_t i : key_columns) key_cols.push_back(columns[i]);
    Chunks keys(duck_db, scratch, "keys", key_cols, INT64_MAX, {}, name);
    db->Read(fmt::format("SELECT {} FROM {}", SelectList(key_cols), relation), key_cols, {},
             [&](std::string_view row) { keys.Add(row); });
    ++report.requests;
    std::vector<fs::path> key_files = keys.Close();
    fs::path key_set = scratch / "key-set.parquet";
    if (key_files.empty()) {  // no rows: an empty key set of the key columns' types
      std::vector<std::string> items;
      for (const auto& c : key_cols) {
        items.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.lake_type, SqlIdent(c.name)));
      }
      duck.Execute(fmt::format("COPY (SELECT {} LIMIT 0) TO {} (FORMAT parquet)", Join(items, ", "),
                               SqlString(key_set.string())));
    } else {
      fs::rename(key_files.front(), key_set);
    }
    if (!last.keys.empty()) {
      lake::Fetched before = ws.store->Fetch({last.keys});
      std::vector<std::string> items;
      for (size_t i = 0; i < columns.size(); ++i) {
        bool is_key = std::find(key_columns.begin(), key_columns.end(), i) != key_columns.end();
        items.push_back(is_key ? "p." + SqlIdent(columns[i].name)
                               : fmt::format("CAST(NULL AS {}) AS {}", columns[i].lake_type,
                                             SqlIdent(columns[i].name)));
      }
      items.push_back(extracted_at);
      items.push_back(fmt::format("true AS {}", SqlIdent(kDeletedColumn)));
      fs::path out = scratch / "deletes.parquet";
      try {
        deletes = duck.Query(fmt::format("COPY (SELECT {} FROM read_parquet({}) p ANTI JOIN "
                                         "read_parquet({}) c USING ({})) TO {} "
                                         "(FORMAT parquet, COMPRESSION zstd)",
                                         Join(items, ", "), SqlString(before.Path(last.keys)),
                                         SqlString(key_set.string()), SqlIdentList(spec.key),
                                         SqlString(out.string())))
                      .GetInt(0, 0);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kInterrupted) throw;
        const std::string problem = fmt::format(
            "the key set the last run kept ({}) cannot be "
            "compared: {}",
            last.keys, OneLine(engine::WithoutQuote(e.what()), 300));
        // A full refresh starts over without it; any other run would miss deletes.
        if (!options.full_refresh) {
          FailWithCode(ErrorKind::kIo, "extract.key_set",
                       "source {}: {}; run sluice extract {} --full-refresh to start over (it "
                       "lands no delete record for this once)",
                       name, problem, name);
        }
        key_set_note = fmt::format("\nwarning: {}; no delete record this run", problem);
        deletes = 0;
      }
      if (deletes > 0) pulled.files.push_back(out);
    }
    state.keys = lake::zones::ExtractKeySetKey(name, run_tag);
    pulled.state_files.emplace_back(state.keys, key_set);
    if (!last.keys.empty()) pulled.obsolete.push_back(last.keys);
  }
  SyncFiles(pulled.files);
  pulled.state = state.Dump();
  report.deletes = deletes;
  if (!state.bound.empty()) report.cursor = state.bound.front();

  const std::string cursor =
      report.cursor
          ? "; cursor " + Redact(report.cursor->is_string() ? report.cursor->get<std::string>()
                                                            : report.cursor->dump())
          : "";
  if (report.rows == 0 && deletes == 0) {
    report.message = fmt::format("source {}: nothing new{}", name, cursor);
  } else {
    report.message = fmt::format("source {}: landed {} row(s){} in {} file(s){}", name, report.rows,
                                 deletes > 0 ? fmt::format(" and {} delete(s)", deletes) : "",
                                 pulled.files.size(), cursor);
  }
  if (spec.cursor.empty()) report.message += " (a full extraction: every row, every run)";
  report.message += key_set_note;
  return pulled;
}

}  // namespace sluice::extract
