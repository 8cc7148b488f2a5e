// The PostgreSQL warehouse: rows travel from the lake's files, read by an in-memory DuckDB, to
// the server through COPY in text form (warehouse/copy_stream.h), into a temporary table of this
// session; load.cc applies them in one transaction.
#include "warehouse/postgres_warehouse.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/sql_shape.h"
#include "pg/pg.h"
#include "warehouse/copy_stream.h"
#include "warehouse/postgres_types.h"

namespace sluice::warehouse {
namespace {

// pg:: failures as the warehouse's: the same kind, the warehouse's codes, the server's words.
template <typename F>
auto Translated(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const pg::Error& e) {
    if (e.kind() == ErrorKind::kInterrupted || e.kind() == ErrorKind::kConflict) throw;
    std::string code = e.code() == "pg.connect" ? "warehouse.connect" : "warehouse.query";
    throw Error(e.kind(), code, fmt::format("warehouse: {}", e.what()));
  }
}

Answer AnswerOf(const pg::Result& result, int64_t max_rows) {
  CheckRowLimit(result.rows(), max_rows);
  Answer out;
  for (int c = 0; c < result.columns(); ++c) {
    out.columns.push_back(result.column_name(c));
    out.numeric.push_back(result.is_numeric(c));
  }
  for (int r = 0; r < result.rows(); ++r) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < result.columns(); ++c) {
      row.push_back(result.IsNull(r, c) ? std::nullopt
                                        : std::optional<std::string>(result.Text(r, c)));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

class PostgresWarehouse : public Warehouse {
 public:
  explicit PostgresWarehouse(const std::string& conninfo)
      : conn_(Translated([&] { return std::make_unique<pg::Connection>(conninfo); })) {
    // Texts Sluice writes as literals hold backslashes as themselves; times travel in UTC.
    Execute("SET standard_conforming_strings = on");
    Execute("SET TimeZone = 'UTC'");
    // A killed loader's session ends within a second even while it waits for a lock or runs
    // a long statement (the server otherwise notices only when it next writes to the client,
    // holding the target's locks until then). PostgreSQL 14 and later.
    auto version = Query("SELECT current_setting('server_version_num')::int >= 140000");
    if (!version.empty() && version[0][0] == "t") {
      Execute("SET client_connection_check_interval = 1000");
    }
  }

  std::string kind() const override { return "postgresql"; }
  std::string where() const override { return "the PostgreSQL warehouse"; }

  std::optional<std::string> TypeFor(const std::string& catalog_type) const override {
    return PostgresTypeFor(catalog_type);
  }
  bool Widens(const std::string& from, const std::string& to) const override {
    return PostgresWidens(from, to);
  }

  std::optional<std::vector<Column>> Columns(const Target& target) override {
    auto rows = Query(fmt::format(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON "
        "n.oid = c.relnamespace WHERE n.nspname = {} AND c.relname = {} AND c.relkind IN "
        "('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        Literal(target.schema), Literal(target.table)));
    if (rows.empty()) return std::nullopt;
    std::vector<Column> out;
    for (auto& r : rows) out.push_back({r[0].value_or(""), r[1].value_or("")});
    return out;
  }

  int64_t Execute(const std::string& sql) override {
    return Translated([&] { return conn_->Query(sql).affected(); });
  }

  Rows Query(const std::string& sql) override {
    return Translated([&] { return AnswerOf(conn_->Query(sql), 0).rows; });
  }

  Answer ReadQuery(const std::string& sql, int64_t timeout_ms, int64_t max_rows) override {
    // Past blanks, comments and opening parentheses (PostgreSQL's read-only transaction is the
    // wall; this keeps writes from reaching it at all).
    std::string first = engine::FirstWord(sql);
    bool cursor = first == "SELECT" || first == "WITH" || first == "VALUES" || first == "TABLE";
    if (engine::FirstWordAt(sql) >= sql.size()) {
      FailWithCode(ErrorKind::kUsage, "usage.empty_query",
                   "sluice query needs a statement; the text holds none\n"
                   "  hint: e.g. sluice query --warehouse \"SELECT * FROM analytics.orders "
                   "LIMIT 10\"");
    }
    if (!cursor && first != "EXPLAIN" && first != "SHOW") {
      FailWithCode(ErrorKind::kUsage, "query.write_refused",
                   "sluice query --warehouse is read-only: it runs one SELECT (or EXPLAIN, "
                   "SHOW), not {}\n  hint: tables are written by loads (`sluice run`, `sluice "
                   "load`); query them with SELECT",
                   first.empty() ? "that text" : first);
    }
    Execute(fmt::format("SET statement_timeout = {}", timeout_ms));
    Execute("BEGIN TRANSACTION READ ONLY");
    Answer answer = Translated([&] {
      try {
        if (!cursor) return AnswerOf(conn_->Query(sql), max_rows);
        conn_->Query("DECLARE sluice_answer NO SCROLL CURSOR FOR " + sql);
        return AnswerOf(
            conn_->Query(fmt::format("FETCH FORWARD {} FROM sluice_answer",
                                     max_rows > 0 ? std::to_string(max_rows + 1) : "ALL")),
            max_rows);
      } catch (const pg::Error& e) {
        // The extended protocol takes one statement: PostgreSQL's answer to more.
        if (std::string(e.what()).find("cannot insert multiple commands") != std::string::npos) {
          FailWithCode(ErrorKind::kUsage, "query.multiple_statements",
                       "sluice query runs one statement at a time; this text holds more");
        }
        if (e.code() != "pg.timeout") throw;
        FailWithCode(ErrorKind::kInput, "query.timeout",
                     "the query ran longer than its limit of {} s and was stopped\n"
                     "  hint: raise it with query: timeout in sluice.yaml, or narrow the query",
                     timeout_ms / 1000.0);
      }
    });
    Execute("ROLLBACK");
    return answer;
  }

  int64_t Stage(const std::string& stage, const std::vector<Column>& columns,
                const std::string& select_sql, const std::vector<meta::Column>& catalog_columns,
                const std::function<void(int64_t rows)>& progress) override {
    std::vector<std::string> defs;
    for (const auto& c : columns) defs.push_back(Quote(c.name) + " " + c.type);
    // Temporary and unlogged: the rows are written once, and vanish with the session.
    Execute(fmt::format("CREATE TEMP TABLE {} ({})", Quote(stage), Join(defs, ", ")));
    int64_t rows = Send(Quote(stage), select_sql, catalog_columns, progress);
    Execute(fmt::format("ANALYZE {}", Quote(stage)));  // temporary tables get no autovacuum
    return rows;
  }

  int64_t Send(const std::string& table_sql, const std::string& select_sql,
               const std::vector<meta::Column>& catalog_columns,
               const std::function<void(int64_t rows)>& progress) override {
    std::vector<std::string> names, texts;
    for (const auto& c : catalog_columns) {
      names.push_back(Quote(c.name));
      texts.push_back(PostgresTextOf(Quote(c.name), c.type));
    }
    engine::Database db;
    engine::Connection source(db);
    source.Execute("SET TimeZone = 'UTC'");
    return Translated([&] {
      auto copy =
          conn_->CopyFrom(fmt::format("COPY {} ({}) FROM STDIN", table_sql, Join(names, ", ")));
      int64_t rows = CopyQuery(
          source, fmt::format("SELECT {} FROM ({}) AS source", Join(texts, ", "), select_sql), copy,
          progress);
      copy.Finish();
      return rows;
    });
  }

  std::string CreateOptions(project::LoadMode mode) const override {
    return mode == project::LoadMode::kMerge ? " WITH (fillfactor = 80)" : "";
  }

  int64_t CreateTableAs(const Target& target, const std::string& query) override {
    // PostgreSQL's grammar takes only a query after AS, and the extended protocol one statement.
    // A cursor is declared first, planned but not run: PostgreSQL refuses one over a WITH that
    // writes (DELETE ... RETURNING), which CREATE TABLE AS would run.
    auto run = [&](const std::string& sql) {
      try {
        return conn_->Query(sql).affected();
      } catch (const pg::Error& e) {
        std::string what = e.what();
        if (what.find("cannot insert multiple commands") != std::string::npos) {
          FailWithCode(ErrorKind::kInput, "input.sql",
                       "the text must be exactly one query (SELECT or WITH ...); it holds more "
                       "than one statement");
        }
        if (what.find("must not contain data-modifying statements") != std::string::npos) {
          FailWithCode(ErrorKind::kInput, "input.sql",
                       "the text must be exactly one query (SELECT or WITH ...); its WITH "
                       "changes data");
        }
        if (e.kind() == ErrorKind::kInterrupted || e.kind() == ErrorKind::kConflict ||
            e.code() == "pg.connect") {
          throw;
        }
        // The server's words, without the statement Sluice wrapped the query in.
        size_t at = what.find("': ");
        throw Error(ErrorKind::kIo, "warehouse.query",
                    "warehouse: " + (at == std::string::npos ? what : what.substr(at + 3)));
      }
    };
    return Translated([&] {
      run("DECLARE sluice_model NO SCROLL CURSOR FOR " + query);
      run("CLOSE sluice_model");
      return run(fmt::format("CREATE TABLE {} AS {}", target.sql(), query));
    });
  }

  std::string KeyIndex(const Target& target, const std::string& name,
                       const std::vector<std::string>& key) const override {
    std::vector<std::string> quoted;
    for (const auto& k : key) quoted.push_back(Quote(k));
    return fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})", Quote(name), target.sql(),
                       Join(quoted, ", "));
  }

  std::optional<Upserted> Upsert(const Target& target, const std::string& stage,
                                 const std::vector<std::string>& columns,
                                 const std::vector<std::string>& key) override {
    // One pass over the stage, each row finding its match through the key's unique index: twice
    // as fast as UPDATE ... FROM then INSERT ... WHERE NOT EXISTS, which both scan the target.
    // xmax is 0 on a row version this statement inserted, this transaction's id on one it updated.
    std::vector<std::string> names, sets, differs;
    for (const auto& c : columns) {
      names.push_back(Quote(c));
      if (std::find(key.begin(), key.end(), c) != key.end()) continue;
      sets.push_back(fmt::format("{0} = EXCLUDED.{0}", Quote(c)));
      differs.push_back(fmt::format("sluice_target.{0} IS DISTINCT FROM EXCLUDED.{0}", Quote(c)));
    }
    std::vector<std::string> keys;
    for (const auto& k : key) keys.push_back(Quote(k));
    std::string on_conflict = sets.empty() ? "DO NOTHING"
                                           : fmt::format("DO UPDATE SET {} WHERE {}",
                                                         Join(sets, ", "), Join(differs, " OR "));
    auto counts = Query(fmt::format(
        "WITH changed AS (INSERT INTO {} AS sluice_target ({}) SELECT {} FROM {} ON CONFLICT ({}) "
        "{} RETURNING (xmax = 0) AS inserted) SELECT CAST(count(*) FILTER (WHERE inserted) AS "
        "text), CAST(count(*) FILTER (WHERE NOT inserted) AS text) FROM changed",
        target.sql(), Join(names, ", "), Join(names, ", "), stage, Join(keys, ", "), on_conflict));
    Upserted out;
    out.inserted = std::stoll(counts.at(0).at(0).value_or("0"));
    out.updated = std::stoll(counts.at(0).at(1).value_or("0"));
    return out;
  }

  void Begin() override {
    Execute("BEGIN");
    // A merge's delete_missing joins the target with the stage: with the default 4MB the hash
    // join spills in batches. For this transaction only: the stage's key checks before it ran
    // 4x slower with it (a hash aggregate the planner then picks).
    Execute("SET LOCAL work_mem = '256MB'");
  }
  void Commit() override { Execute("COMMIT"); }
  void Rollback() override { Execute("ROLLBACK"); }
  void Lock(const Target& target) override {
    Query(fmt::format("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))",
                      Literal("sluice.load:" + target.str())));
  }

 private:
  std::unique_ptr<pg::Connection> conn_;
};

}  // namespace

std::unique_ptr<Warehouse> OpenPostgres(const std::string& conninfo) {
  return std::make_unique<PostgresWarehouse>(conninfo);
}

}  // namespace sluice::warehouse
