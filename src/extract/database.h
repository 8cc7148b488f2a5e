#pragma once
// Database sources: `extract: { database: postgresql://... | sqlite:PATH, table | query, cursor,
// key, chunk_rows, deletes }` (project.h: DatabaseExtract). The rows of the table or query land
// as Parquet, one file per chunk of rows, with every column's type mapped from the database's to
// the lake's exactly (docs/extract.md lists the mapping).
//
// Incremental by a cursor column: a run reads the rows whose (cursor, key...) is greater than the
// last row the run before landed, in that order, so that rows sharing one cursor value are
// neither read twice nor skipped. `deletes: detect` compares the key set the run reads with the
// one the run before kept, and lands the keys gone as delete records.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "extract/extract.h"
#include "extract/landing.h"

namespace sluice::extract {

// How a column of the source lands.
struct Column {
  std::string name;
  std::string source_type;  // the database's name for its type (for messages)
  std::string lake_type;    // the DuckDB type it lands as
  // How the backend reads it: an SQL expression over the relation ("" the quoted name).
  std::string select;
  bool hex = false;  // its text is hex after "\x" (bytea, SQLite's BLOB): lands as BLOB
  // How its text becomes the lake's value: a DuckDB expression over `{0}` (the text as VARCHAR),
  // or "" to read the text as lake_type directly.
  std::string convert;
};

// `text` (a message, a literal) as part of a Column::convert: its braces doubled.
std::string ConvertText(std::string text);

// One source database, read in one read-only snapshot from Open to destruction: what Describe
// says and every Read agree. Not for concurrent use.
class SourceDatabase {
 public:
  virtual ~SourceDatabase() = default;

  // The columns of `relation` (a quoted table name, or "(query) AS q"), in order. Throws the
  // database's error (a missing table, a query that does not parse) as kConfig or kIo.
  virtual std::vector<Column> Describe(const std::string& relation) = 0;

  // Runs `select` and hands `row` each of its rows in order, as one CSV line (fields separated
  // by ',', quoted with '"' and "" inside; NULL an empty unquoted field, an empty text ""; the
  // line end included; a column with `hex` as "\x..."). Returns the values of the last row at
  // the columns `bound` (indexes into the select list): a string holding the value's text, or a
  // number where the database keeps one (SQLite), so that the same value written as an SQL
  // literal compares equal to it; empty when there was no row. A NULL or a BLOB among them
  // throws extract.bad_key (kInput). Throws the database's errors as Describe, kInterrupted when
  // the user interrupts, and what `row` throws.
  // `columns` are the select list's, as Describe made them.
  virtual std::vector<nlohmann::json> Read(
      const std::string& select, const std::vector<Column>& columns,
      const std::vector<size_t>& bound, const std::function<void(std::string_view row)>& row) = 0;
};

// The backends. Both open read-only: a query cannot change the source.
std::unique_ptr<SourceDatabase> OpenPostgresSource(const std::string& uri);
std::unique_ptr<SourceDatabase> OpenSqliteSource(const fs::path& file);

// Opens the database of `spec`: a PostgreSQL server (spec.uri), or a SQLite file (spec.sqlite,
// relative to `root`). Throws pg.connect, or extract.database (kConfig) for a SQLite file that
// is missing or not a database.
std::unique_ptr<SourceDatabase> OpenSourceDatabase(const project::DatabaseExtract& spec,
                                                   const fs::path& root);

// Pulls the rows of source `name` that are new since `state` (its JSON, "" none) into Parquet
// files in `scratch`, and says what it did in `report`.
Pulled PullDatabase(transform::Workspace& ws, const std::string& name,
                    const project::DatabaseExtract& spec, const std::string& state,
                    const std::string& run_tag, const fs::path& scratch,
                    const ExtractOptions& options, ExtractReport& report);

// The fields of one CSV line as SourceDatabase::Read writes them (nullopt for NULL). Throws
// extract.bad_row for a line that is not one such row.
std::vector<std::optional<std::string>> ParseCsvRow(std::string_view line);

}  // namespace sluice::extract
