#pragma once
// warehouse::Warehouse: where curated tables land for analysts and dashboards. Two backends
// behind one seam: PostgreSQL (`warehouse: postgresql://...`, production) and a DuckDB file (the
// embedded default, `.sluice/<env>.duckdb`). Everything above the seam (what to load, schema
// changes, the ledger, the SQL that applies a load) is written once, in load.cc, in SQL both
// engines accept; a backend supplies only its connection, its type mapping, its catalog queries
// and the fast path that fills a staging table.
//
// Contract, for every backend:
// - One Warehouse is one session, used by one thread at a time; open one per operation.
// - Statements run in autocommit unless between Begin and Commit; destroying a Warehouse inside
//   a transaction rolls it back. A killed process leaves nothing of an uncommitted transaction.
// - Failures of the server or the file throw sluice::Error: kIo for a lost or refused
//   connection (code warehouse.connect) and failed statements (warehouse.query), kConflict for a
//   lost race, kInterrupted when the user stops the operation. Messages never hold a password.
// - Names reach SQL only through Quote (identifiers) and Literal (texts).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meta/records.h"
#include "project/project.h"

namespace sluice::warehouse {

// A warehouse table: schema and name, as written (Quote them for SQL).
struct Target {
  std::string schema, table;
  std::string str() const { return schema + "." + table; }
  std::string sql() const;  // "schema"."table"
};

// A column as the warehouse has it: its name and its type in the warehouse's own spelling
// (the spelling TypeFor gives, so the two compare as texts).
struct Column {
  std::string name, type;
};

using Rows = std::vector<std::vector<std::optional<std::string>>>;

// The answer of a read-only query: column names, which are numbers, and rows as text.
struct Answer {
  std::vector<std::string> columns;
  std::vector<bool> numeric;
  Rows rows;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;

  // "postgresql" or "duckdb", for messages.
  virtual std::string kind() const = 0;
  // Where it is, for messages: the DuckDB file, or host:port/database (never a password).
  virtual std::string where() const = 0;

  // The warehouse type for a catalog column type (a DuckDB type name), as documented in
  // docs/warehouse.md; nullopt for a type it cannot hold.
  virtual std::optional<std::string> TypeFor(const std::string& catalog_type) const = 0;
  // Whether a column of warehouse type `from` may become `to` in place without losing a value
  // (a wider integer, a wider decimal); equal types are not a change.
  virtual bool Widens(const std::string& from, const std::string& to) const = 0;

  // What follows the column list of CREATE TABLE for a table loads of `mode` will write ("" for
  // nothing): PostgreSQL keeps a fifth of each page of a merge target free (fillfactor 80), so
  // that a merge's updates stay on their page (HOT: no new index entries), twice as fast.
  virtual std::string CreateOptions(project::LoadMode mode) const = 0;

  // The columns of `target` in order; nullopt when there is no such table.
  virtual std::optional<std::vector<Column>> Columns(const Target& target) = 0;

  // Runs one statement; returns the rows it changed (0 for DDL).
  virtual int64_t Execute(const std::string& sql) = 0;
  // Runs one query; returns its rows as text (NULL as nullopt). For small answers.
  virtual Rows Query(const std::string& sql) = 0;

  // Runs one read-only statement for a person to look at (`sluice query --warehouse`): a SELECT
  // (or EXPLAIN of one) in a read-only transaction, cancelled after `timeout_ms` (query.timeout).
  // Anything that writes, or more than one statement, is refused (query.write_refused,
  // query.multiple_statements); more than `max_rows` rows (0: no limit) fails with
  // query.row_limit without reading the rest. The DuckDB warehouse reads no file but its own.
  virtual Answer ReadQuery(const std::string& sql, int64_t timeout_ms, int64_t max_rows) = 0;

  // Creates the temporary table `stage` (this session's only) with `columns` (warehouse
  // types) and fills it with the rows of `select_sql`, a DuckDB query over local lake files
  // whose columns are `catalog_columns` in that order. Memory stays bounded whatever the row
  // count; `progress` (when given) hears the rows sent so far. Returns the rows staged.
  virtual int64_t Stage(const std::string& stage, const std::vector<Column>& columns,
                        const std::string& select_sql,
                        const std::vector<meta::Column>& catalog_columns,
                        const std::function<void(int64_t rows)>& progress) = 0;

  // Adds the rows of `select_sql` (as for Stage) to the existing table `table_sql` (quoted
  // for SQL), through the same fast path; in the current transaction, if one is open. For a
  // table the open transaction created, where no one else can see the rows until Commit.
  virtual int64_t Send(const std::string& table_sql, const std::string& select_sql,
                       const std::vector<meta::Column>& catalog_columns,
                       const std::function<void(int64_t rows)>& progress) = 0;

  // The statement that gives `target` the unique index `name` on `key` unless it has one, or ""
  // where the backend keeps no such index (DuckDB cannot alter a table that has an index: there
  // the load's own checks keep a merge key unique).
  virtual std::string KeyIndex(const Target& target, const std::string& name,
                               const std::vector<std::string>& key) const = 0;

  // Creates the table `target` from the rows of `query`: one query (SELECT, WITH ...) in the
  // warehouse's own dialect; between Begin and Commit. Returns its rows. Text that is not exactly
  // one query, or whose WITH writes, fails with input.sql and runs nothing; the query's own
  // errors are warehouse.query. The DuckDB warehouse reads no file but its own. A function the
  // query calls may still write what the warehouse role may: that role is the wall.
  virtual int64_t CreateTableAs(const Target& target, const std::string& query) = 0;

  // What a merge changed.
  struct Upserted {
    int64_t inserted = 0, updated = 0;
  };
  // Merges the rows of `stage` (a quoted relation: a temporary table, or a table as
  // Target::sql gives it) into `target` in one statement where the backend can:
  // a stage row whose key the target holds updates that row when a value differs, any other is
  // inserted. `columns` name the stage's columns (all the target has, or fewer), `key` some of
  // them; the stage holds each key once and no NULL in it, and the target has KeyIndex's index
  // (the caller sees to both). nullopt where the backend has no such statement (DuckDB, which
  // keeps no unique index): the caller then updates and inserts in two statements.
  virtual std::optional<Upserted> Upsert(const Target& target, const std::string& stage,
                                         const std::vector<std::string>& columns,
                                         const std::vector<std::string>& key) = 0;

  // Transactions. Lock serializes loads of one target across sessions until the transaction
  // ends (PostgreSQL: an advisory lock; DuckDB: the file has one writer anyway).
  virtual void Begin() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() = 0;
  virtual void Lock(const Target& target) = 0;
};

// `name` as a quoted identifier ("a""b" for a"b).
std::string Quote(const std::string& name);
// `text` as a SQL string literal ('it''s'); both engines read backslashes literally.
std::string Literal(const std::string& text);

// Throws query.row_limit for an answer of `rows` rows over `max_rows` (0: no limit).
void CheckRowLimit(int64_t rows, int64_t max_rows);

// Opens the environment's warehouse: PostgreSQL when `env.warehouse_uri` is set, else the
// DuckDB file `env.warehouse` (created on first use). The DuckDB file has one writer at a time:
// Open waits for another process's lock for at most `lock_timeout_ms`, then fails
// (warehouse.busy). Unset ${env:...} in the setting fail with config.env_unset.
std::unique_ptr<Warehouse> Open(const project::Environment& env, int64_t lock_timeout_ms = 60000);

// Throws what Open throws for a setting that cannot be used (config.env_unset), without opening
// anything: for a command to fail before it runs what it would load, not after.
void RequireSettings(const project::Environment& env);

}  // namespace sluice::warehouse
