#include "warehouse/copy_stream.h"

#include <string_view>
#include <vector>

#include "common/error.h"
#include "pg/copy_text.h"

namespace sluice::warehouse {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

// A VARCHAR's bytes, read in place: duckdb_string_t is part of DuckDB's stable C ABI (up to 12
// bytes inline, longer ones behind a pointer), and reading it here saves a call into the
// library per value.
std::string_view View(const duckdb_string_t& s) {
  uint32_t length = s.value.inlined.length;
  if (length <= sizeof(s.value.inlined.inlined)) return {s.value.inlined.inlined, length};
  return {s.value.pointer.ptr, length};
}

}  // namespace

int64_t CopyQuery(engine::Connection& conn, const std::string& select_sql, pg::CopyIn& copy,
                  const std::function<void(int64_t rows)>& progress) {
  engine::ChunkStream stream(conn, select_sql);
  const size_t columns = stream.column_count();
  for (size_t c = 0; c < columns; ++c) {
    if (stream.column_type(c) != DUCKDB_TYPE_VARCHAR) {
      Fail(ErrorKind::kInternal,
           "the rows of a COPY must be VARCHAR, but column {} ('{}') of the query is not", c + 1,
           stream.column_name(c));
    }
  }
  std::string buffer;
  buffer.reserve(kFlushBytes + (64 << 10));
  std::vector<const duckdb_string_t*> data(columns);
  std::vector<uint64_t*> validity(columns);
  int64_t rows = 0;
  auto flush = [&] {
    copy.WriteRaw(buffer);
    buffer.clear();
    if (progress) progress(rows);
  };
  while (duckdb_data_chunk chunk = stream.Next()) {
    const idx_t size = duckdb_data_chunk_get_size(chunk);
    for (size_t c = 0; c < columns; ++c) {
      duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, c);
      data[c] = static_cast<const duckdb_string_t*>(duckdb_vector_get_data(vector));
      validity[c] = duckdb_vector_get_validity(vector);  // nullptr: no NULL in this chunk
    }
    for (idx_t r = 0; r < size; ++r) {
      for (size_t c = 0; c < columns; ++c) {
        if (c > 0) buffer.push_back('\t');
        if (validity[c] != nullptr && !duckdb_validity_row_is_valid(validity[c], r)) {
          pg::AppendCopyNull(buffer);
        } else {
          pg::AppendCopyText(buffer, View(data[c][r]));
        }
      }
      buffer.push_back('\n');
      ++rows;
      if (buffer.size() >= kFlushBytes) flush();
    }
  }
  if (!buffer.empty()) flush();
  return rows;
}

}  // namespace sluice::warehouse
