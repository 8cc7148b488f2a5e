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
// Memory is bounded: one chunk of the answer and at most three buffers of about 1 MiB of encoded
// rows. The query runs and rows are encoded on the calling thread while a helper thread sends
// full buffers with CopyIn::WriteRaw (so DuckDB and the server work at once); the COPY's
// connection must not be used by anyone else until CopyQuery returns. `progress(rows)`, when
// given, is called on the calling thread with the rows sent so far, increasing, the last call
// with all of them. Does not finish the COPY: the caller calls copy.Finish() (which throws the
// server's error about a bad value: see CopyIn::WriteRaw), or abandons it on an error. Throws
// what the stream throws (a DuckDB error, kInterrupted on the user's interrupt, both checked
// between chunks) and what WriteRaw throws; the helper thread has stopped when it returns.
int64_t CopyQuery(engine::Connection& conn, const std::string& select_sql, pg::CopyIn& copy,
                  const std::function<void(int64_t rows)>& progress = {});

}  // namespace sluice::warehouse
