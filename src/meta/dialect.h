#pragma once
// meta::Dialect is what differs between the SQL databases the stores run on: placeholders,
// upserts, RETURNING, row locks, DDL types, the database's clock and the schema migrations. The
// stores write their SQL once, in the common subset (`?` placeholders, `ON CONFLICT`), and ask
// the dialect for the rest; a new database adds a Dialect, never a second copy of a store's SQL.
//
// Contract: a Dialect is an immutable value; every method is safe from any thread.
#include <string>
#include <string_view>
#include <vector>

namespace sluice::meta {

class Dialect {
 public:
  virtual ~Dialect() = default;

  // "sqlite", "postgresql": as in `meta.schema_too_new` messages and migration records.
  virtual std::string_view name() const = 0;

  // The statement with the stores' placeholders (`?`, `?N`) in the database's own form.
  virtual std::string Placeholders(std::string_view sql) const = 0;

  // The tail of an INSERT that updates `update_columns` from the new row when a row with the
  // same `keys` exists (none: the new row is dropped).
  virtual std::string Upsert(std::string_view keys,
                             const std::vector<std::string_view>& update_columns) const;

  // The tail of an INSERT/UPDATE that hands back `column` of the written row.
  virtual std::string Returning(std::string_view column) const;

  // The clause that locks the rows a SELECT picked until the transaction ends (FOR UPDATE), or
  // with `skip_locked` passes over rows another transaction holds (FOR UPDATE SKIP LOCKED); ""
  // where a write transaction already excludes every other writer.
  virtual std::string_view LockRows(bool skip_locked) const = 0;

  // DDL types: a 64-bit integer, text. (Each dialect's migrations spell their own tables.)
  virtual std::string_view IntegerType() const = 0;
  virtual std::string_view TextType() const = 0;

  // An SQL expression for the database's clock in milliseconds since the Unix epoch.
  virtual std::string_view NowMs() const = 0;

  // A query with one parameter, the name of a table, that yields a row when the table exists.
  virtual std::string_view TableExists() const = 0;

  // The statement that starts a transaction that will write.
  virtual std::string_view BeginWrite() const = 0;

  // A column of every table that grows with each row inserted, to order rows written in one
  // millisecond in the order they were written (SQLite: rowid; a dialect without one gives its
  // tables such a column in its migrations).
  virtual std::string_view InsertionOrder() const = 0;

  // Versioned migrations: entry i brings the schema from version i to i+1. They are written
  // once, in SQLite's DDL (kMigrations in dialect.cc: never edit an entry that has shipped,
  // append one), and each dialect spells them in its own DDL through Ddl; so a schema version
  // means the same tables and columns on every database.
  std::vector<std::string> Migrations() const;
  // `sql`, DDL statements in SQLite's spelling, in this database's.
  virtual std::string Ddl(std::string_view sql) const = 0;

  // A query with one parameter, the name of a table, that yields each of its columns' name and
  // declared type, in order.
  virtual std::string_view ColumnTypes() const = 0;

  // Statements that make `table`'s generated keys continue after its largest (after rows were
  // inserted with their keys given); none where the database does that by itself.
  virtual std::vector<std::string> ResumeKeys(const std::string& /*table*/) const { return {}; }

  // Metastores written before the schema_version table kept their version elsewhere (SQLite:
  // PRAGMA user_version). The statements that read and write it; "" where there is none.
  virtual std::string LegacyVersionRead() const { return ""; }
  virtual std::string LegacyVersionWrite(int /*version*/) const { return ""; }
};

// SQLite 3.35 or newer (RETURNING), in WAL mode; BEGIN IMMEDIATE takes the write lock up front,
// so there are no row locks to ask for.
class SqliteDialect : public Dialect {
 public:
  std::string_view name() const override { return "sqlite"; }
  std::string Placeholders(std::string_view sql) const override { return std::string(sql); }
  std::string_view LockRows(bool) const override { return ""; }
  std::string_view IntegerType() const override { return "INTEGER"; }
  std::string_view TextType() const override { return "TEXT"; }
  std::string_view NowMs() const override {
    return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
  }
  std::string_view TableExists() const override {
    return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
  }
  std::string_view BeginWrite() const override { return "BEGIN IMMEDIATE"; }
  std::string_view InsertionOrder() const override { return "rowid"; }
  std::string Ddl(std::string_view sql) const override { return std::string(sql); }
  std::string_view ColumnTypes() const override {
    return "SELECT name, type FROM pragma_table_info(?)";
  }
  std::string LegacyVersionRead() const override { return "PRAGMA user_version"; }
  std::string LegacyVersionWrite(int version) const override;
};

// PostgreSQL 12 or newer. A write transaction takes one advisory lock, so writers run one at a
// time as SQLite's do (the stores' read-then-write transactions rely on it); readers never wait.
// Text sorts and compares bytewise (COLLATE "C") as in SQLite; every table has an identity
// column `insertion_order` for InsertionOrder.
class PostgresDialect : public Dialect {
 public:
  std::string_view name() const override { return "postgresql"; }
  // `?` and `?N` become `$N` (outside quoted literals and identifiers).
  std::string Placeholders(std::string_view sql) const override;
  std::string_view LockRows(bool skip_locked) const override {
    return skip_locked ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE";
  }
  std::string_view IntegerType() const override { return "BIGINT"; }
  std::string_view TextType() const override { return "TEXT COLLATE \"C\""; }
  std::string_view NowMs() const override {
    return "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)";
  }
  std::string_view TableExists() const override {
    return "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?";
  }
  std::string_view BeginWrite() const override;
  std::string_view InsertionOrder() const override { return "insertion_order"; }
  std::string Ddl(std::string_view sql) const override;
  std::vector<std::string> ResumeKeys(const std::string& table) const override;
  std::string_view ColumnTypes() const override {
    return "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
           "current_schema() AND table_name = ? ORDER BY ordinal_position";
  }
};

}  // namespace sluice::meta
