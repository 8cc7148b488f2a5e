#pragma once
// Ad-hoc SQL over the catalog (Athena's job): read-only, and sandboxed to the lake.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"

namespace sluice::catalog {

// Runs `sql` over every catalog table and hands the answer to `print`. Contract:
// - Decided from DuckDB's parse, before anything runs: the text must be exactly one SELECT, or
//   EXPLAIN (without ANALYZE or options) of one. Anything else is refused with
//   sluice::Error(kUsage) code query.write_refused or query.multiple_statements.
// - It runs in a child process (common/sandbox.h) that can read the lake and write only
//   a scratch folder of this process (lake::Store::ScratchDir: DuckDB's temp files; removed
//   afterwards, or by the next command when this process was killed), with DuckDB limited to
//   the folders of the fetched lake files (lake::Fetched::Folders), no extension loading or
//   installing, and `limits.memory_limit`. `print` runs in that child: it may write to stdout and
//   stderr, nothing else.
// - An answer of more than `limits.max_rows` rows (when not 0) is Error(kInput,
//   query.row_limit), never cut; past `limits.timeout_ms` the query is stopped with
//   Error(kInput, query.timeout); Ctrl-C stops it with kInterrupted.
// - DuckDB's own errors (with the position in the user's SQL) come back as Error(kInput).
// - Text without a statement (empty, blanks, comments) is Error(kUsage, usage.empty_query).
// - A read of bronze.<s> for a source s of `sources` (the project's) that has no table in the
//   catalog yet is Error(kInput, input.not_in_catalog) naming `sluice crawl s`.
void RunQuery(meta::CatalogStore& metastore, const lake::Store& store, const std::string& sql,
              const project::QuerySettings& limits, const std::vector<std::string>& sources,
              const std::function<void(engine::Result&)>& print);

// The statement gate of RunQuery alone, on `conn`: the SQL to run for `sql` (itself, or the
// EXPLAIN of the checked SELECT; a SELECT without the `;` that ends it, so it can be wrapped:
// engine::WithoutTerminator), or the refusal as above.
std::string CheckedStatement(engine::Connection& conn, const std::string& sql);

}  // namespace sluice::catalog
