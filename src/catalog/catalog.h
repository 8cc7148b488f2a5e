#pragma once
// How catalog tables become SQL: every table is a view `db.name` over its current files.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "quality/rules.h"

namespace sluice::catalog {

struct ScanOptions {
  // Malformed rows go to DuckDB's reject tables (reject_errors) instead of being skipped.
  bool capture_rejects = false;
  // Adds `_sluice_file`, the 1-based position of each row's file in `files` (an integer keeps
  // the rows small; the caller maps it back to the lake key where needed).
  bool file_index = false;
};

// A SQL table expression reading `files` of `table` with the table's format, dialect and column
// types, e.g. read_csv([...], ...). CSV files are read in groups of one header each (so malformed
// lines can be captured) and the groups combined by column name. No files gives an empty
// relation with the table's columns. `local` holds the fetched copies of `files`; the SQL is
// readable while it lives.
std::string ScanSql(const meta::Table& table, const std::vector<meta::TableFile>& files,
                    const lake::Fetched& local, const ScanOptions& options = {});

// Whether the lake file `key` of `table` holds data rows, judged without parsing them: a Parquet
// footer's row count; for text, a line that is not blank (nor `[`, `]` or `[]` in JSON) besides a
// CSV's header line. Reads no more than the first few such lines (through DuckDB, so compressed
// files too). A job asks this only of a file its scan yielded no row from. `key` must be in
// `local`.
bool HoldsData(engine::Connection& conn, const meta::Table& table, const std::string& key,
               const lake::Fetched& local);

struct Unreadable {
  std::string table;  // db.name
  std::string error;  // why its view could not be made, e.g. a file missing from the lake
};

// A table's current version as a view needs it: its columns and its files.
struct TableListing {
  meta::Table table;  // with columns
  std::vector<meta::TableFile> files;
};
// Every catalog table, read from the metastore once (a sandboxed query reads it before it
// gives up access to the metastore).
std::vector<TableListing> ListTables(meta::CatalogStore& metastore);

// Creates a schema per database and a view per table on `conn`. A table whose files cannot be
// read is left out (so the rest stay usable) and returned with the reason. The views read
// local copies fetched from `store` and added to `held`: they are readable while `held` lives.
std::vector<Unreadable> AttachTables(engine::Connection& conn, meta::CatalogStore& metastore,
                                     const lake::Store& store, lake::Fetched& held);
std::vector<Unreadable> AttachTables(engine::Connection& conn,
                                     const std::vector<TableListing>& tables,
                                     const lake::Store& store, lake::Fetched& held);

// Attaches `db.name` afresh (as AttachTables does, whose schemas it needs) and returns what the
// footers of the files its view reads say of its columns (see quality::TableFacts): for a
// Parquet table, NULL counts, and the least and greatest value of integer, decimal, date and
// timestamp columns. Nothing for other formats. One read of the metastore serves both, so the
// facts are those of the rows the view reads even if the table changes meanwhile. The view's
// files are added to `held`, as AttachTables does.
quality::TableFacts AttachWithFacts(engine::Connection& conn, meta::CatalogStore& metastore,
                                    const lake::Store& store, const std::string& db,
                                    const std::string& name, lake::Fetched& held);

// DuckDB's readers take *, ? and [ in a file name as a pattern (a[1].csv would read a1.csv):
// such a name cannot be read as itself. Returns the offending character, or 0.
char PatternCharacter(const std::string& path);

// The file format a lake key holds ("csv", "json", "parquet"), from its extension, or "".
std::string FormatOfKey(const std::string& key);

// "k=v/k2=v2" from the folders between `prefix` and the file name.
std::string PartitionOf(const std::string& key, const std::string& prefix);

// The names of a file's own columns, as its header has them, from TableFile::columns (a JSON
// array); nullopt when the catalog does not know them ("" or not an array of texts).
std::optional<std::vector<std::string>> OwnColumns(const std::string& columns);

// `text` with its control characters (and DEL) shown as \xNN, for quoting an untrusted name in
// a message; and the first such character's offset (npos when none).
std::string Visible(std::string_view text);
size_t ControlCharacterAt(std::string_view text);

// The type of a partition value: BIGINT, DATE or VARCHAR; "" for a value shaped like a date
// that is none (2026-02-30), which DuckDB would fail to cast, and so fail the whole table.
std::string PartitionValueType(const std::string& value);

// The partition columns of a file's key=value folders ("k=v/k2=v2"), in order, or in `fault`
// why the table could not read them (and no columns): DuckDB takes a folder as a partition only
// with one '=' after a non-empty key, and a key twice gives one column two values. The crawler
// quarantines such a file; ingest refuses it.
std::vector<meta::Column> PartitionColumns(const std::string& partition, std::string& fault);

}  // namespace sluice::catalog
