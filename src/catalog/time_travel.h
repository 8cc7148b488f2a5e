#pragma once
// Time travel: `FROM silver.orders AT (VERSION => 3)` and `AT (TIMESTAMP => '2026-01-05 10:00')`
// (UTC) in a query or a model. DuckDB parses AT but cannot bind it on a view, so the statement is
// rewritten: each such reference reads a view of that version's files, in schema _sluice_at, and
// loses its AT clause (the rest of the statement is DuckDB's own rendering of its syntax tree).
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "meta/catalog_store.h"

namespace sluice::catalog {

struct TimeTravel {
  std::string sql;                   // the statement to run: `sql` itself when it has no AT
  std::vector<TableListing> tables;  // views to attach first (AttachTables), one per version
};

// Resolves the AT clauses of `sql` (one statement) against the catalog. Throws Error(kInput,
// "query.unknown_version") for a version the table never had, one `sluice vacuum` removed, a
// time before the table existed, or an AT that is not a constant; Error(kInput, "input.sql")
// for text DuckDB cannot parse.
TimeTravel ResolveTimeTravel(meta::CatalogStore& catalog, const std::string& sql);

}  // namespace sluice::catalog
