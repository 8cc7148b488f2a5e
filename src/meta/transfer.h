#pragma once
// Moving a project's whole metastore (catalog, run history, bookmarks, landing records, tokens,
// stored definitions) between databases: SQLite to PostgreSQL and back, for `sluice metastore
// export FILE` / `import FILE`.
//
// The file is NDJSON: a header line
//   {"format": "sluice-metastore-export", "format_version": 1, "schema_version": N,
//    "dialect": "sqlite", "tables": {"runs": 12, ...}}
// then, per table in kTransferTables' order, a line {"table": NAME, "columns": [...]} followed
// by one JSON array per row (integers, numbers, strings, null), in the order the rows were
// written.
//
// Contract:
// - Export reads every table of the metastore at `uri` (migrating it first, as every open does)
//   and writes the file; the counts in the header are the rows written. It reads while other
//   processes may write: run it on a quiet metastore for a consistent copy.
// - Import loads such a file into the metastore at `uri` (created and migrated when missing) in
//   one transaction, and only when that metastore is empty (no row in any table) and at the
//   file's schema version; then counts every table and compares with the header. Anything else
//   changes nothing: a file that is not an export, is damaged or truncated, names an unknown
//   table or column, or disagrees with its header is Error(kInput, metastore.bad_export) naming
//   the line; a metastore that holds rows is Error(kConfig, metastore.not_empty); a schema
//   version that differs is Error(kConfig, metastore.schema_mismatch) naming both.
#include <cstdint>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace sluice::meta {

// Every table of the schema, parents before the tables that refer to them.
extern const std::vector<std::string> kTransferTables;

struct TransferReport {
  std::string dialect, where;  // the metastore written or read
  int schema_version = 0;
  std::map<std::string, int64_t> rows;  // per table
};

TransferReport Export(const std::string& uri, std::ostream& out);
TransferReport Import(const std::string& uri, std::istream& in);

}  // namespace sluice::meta
