#pragma once
// The bulk path from DuckDB to a PostgreSQL warehouse: the answer of a query, streamed chunk by
// chunk (engine::ChunkStream), encoded in COPY's text format (pg/copy_text.h) and sent through
// a COPY ... FROM STDIN at COPY speed. The engine and pg modules know nothing of each other;
// this is where they meet.
#include <cstdint>
#include <functional>
#include <string>

#include "engine/engine.h"
#include "pg/pg.h"

namespace sluice::warehouse {

// Sends every row of `select_sql` through `copy` (a COPY ... FROM STDIN started by the caller,
// whose columns are the query's, in order) and returns the rows sent. Every column of the query
// must be VARCHAR holding the PostgreSQL input text of its value (the caller casts; NULL stays
// NULL): another type throws ErrorKind::kInternal before any row is sent.
//
// Memory is bounded: one chunk of the answer and about 1 MiB of encoded rows at a time, flushed
// with CopyIn::WriteRaw. `progress(rows)`, when given, is called after each flush with the rows
// sent so far. Does not finish the COPY: the caller calls copy.Finish() (the server checks the
// values only then, or as it goes), or abandons it on an error. Throws what the stream throws
// (a DuckDB error, kInterrupted on the user's interrupt) and what WriteRaw throws.
int64_t CopyQuery(engine::Connection& conn, const std::string& select_sql, pg::CopyIn& copy,
                  const std::function<void(int64_t rows)>& progress = {});

}  // namespace sluice::warehouse
