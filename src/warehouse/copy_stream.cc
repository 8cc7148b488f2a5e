#include "warehouse/copy_stream.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"
#include "pg/copy_text.h"

namespace sluice::warehouse {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
// Encoded buffers waiting for the sender, beyond the one being filled: enough to keep the
// server busy while DuckDB computes the next chunks, few enough to bound memory.
constexpr size_t kQueuedBuffers = 2;

// A VARCHAR's bytes, read in place: duckdb_string_t is part of DuckDB's stable C ABI (up to 12
// bytes inline, longer ones behind a pointer), and reading it here saves a call into the
// library per value.
std::string_view View(const duckdb_string_t& s) {
  uint32_t length = s.value.inlined.length;
  if (length <= sizeof(s.value.inlined.inlined)) return {s.value.inlined.inlined, length};
  return {s.value.pointer.ptr, length};
}

// Sends encoded buffers through the COPY on a thread of its own. The server parses rows about as
// fast as DuckDB and the encoder make them, so doing both at once (rather than in turn) is most
// of COPY speed: measured, sending in turn spent 75% of the time blocked in PQputCopyData.
class Sender {
 public:
  explicit Sender(pg::CopyIn& copy) : copy_(copy), thread_([this] { Run(); }) {}
  ~Sender() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // Queues `buffer` (whose rows bring the total to `rows`), waiting while kQueuedBuffers are
  // already queued, and hands back an empty buffer to fill. Rethrows the sender's failure.
  void Send(std::string& buffer, int64_t rows) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return failure_ || queue_.size() < kQueuedBuffers; });
    if (failure_) std::rethrow_exception(failure_);
    queue_.push_back({std::move(buffer), rows});
    if (!spare_.empty()) {
      buffer = std::move(spare_.back());
      spare_.pop_back();
    } else {
      buffer = std::string();
      buffer.reserve(kFlushBytes + (64 << 10));
    }
    buffer.clear();
    lock.unlock();
    changed_.notify_all();
  }

  // Waits until every queued buffer is sent; rethrows the sender's failure.
  void Drain() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return failure_ || (queue_.empty() && !sending_); });
    if (failure_) std::rethrow_exception(failure_);
  }

  // The rows of the buffers sent so far.
  int64_t rows_sent() {
    std::lock_guard lock(mu_);
    return rows_sent_;
  }

 private:
  struct Pending {
    std::string bytes;
    int64_t rows;
  };

  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      changed_.wait(lock, [&] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closed
      Pending next = std::move(queue_.front());
      queue_.pop_front();
      sending_ = true;
      lock.unlock();
      std::exception_ptr failure;
      try {
        copy_.WriteRaw(next.bytes);
      } catch (...) {
        failure = std::current_exception();  // rethrown by Send or Drain on the caller's thread
      }
      lock.lock();
      sending_ = false;
      if (failure) {
        failure_ = failure;
        queue_.clear();
        changed_.notify_all();
        return;
      }
      rows_sent_ = next.rows;
      next.bytes.clear();
      spare_.push_back(std::move(next.bytes));
      changed_.notify_all();
    }
  }

  pg::CopyIn& copy_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Pending> queue_;       // guarded by mu_
  std::vector<std::string> spare_;  // guarded by mu_: sent buffers, for reuse
  bool sending_ = false;            // guarded by mu_
  bool closed_ = false;             // guarded by mu_
  int64_t rows_sent_ = 0;           // guarded by mu_
  std::exception_ptr failure_;      // guarded by mu_
  std::thread thread_;              // last: starts once the rest is built
};

// Encodes and sends every row of `stream`; `rows` counts them as they are encoded.
void Send(engine::ChunkStream& stream, pg::CopyIn& copy,
          const std::function<void(int64_t rows)>& progress, int64_t& rows) {
  const size_t columns = stream.column_count();
  std::string buffer;
  buffer.reserve(kFlushBytes + (64 << 10));
  std::vector<const duckdb_string_t*> data(columns);
  std::vector<uint64_t*> validity(columns);
  int64_t reported = 0;
  Sender sender(copy);
  auto report = [&] {
    int64_t sent = sender.rows_sent();
    if (progress && sent > reported) progress(sent);
    reported = sent;
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
      if (buffer.size() >= kFlushBytes) {
        sender.Send(buffer, rows);
        report();
      }
    }
  }
  if (!buffer.empty()) sender.Send(buffer, rows);
  sender.Drain();
  report();
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
  int64_t rows = 0;
  try {
    Send(stream, copy, progress, rows);
  } catch (...) {
    // Abandoning a streaming answer while DuckDB's threads still scan for it, then closing the
    // database, can deadlock in DuckDB's teardown (a worker locks a mutex of the closed
    // connection): seen when the server dropped the connection mid-COPY. Stop the statement and
    // let the stream end through DuckDB's own error path before anything is destroyed.
    duckdb_interrupt(conn.handle());
    try {
      while (stream.Next() != nullptr) {
      }
    } catch (const std::exception&) {
      // the interrupt's own error: the first failure is the one to report
    }
    throw;
  }
  return rows;
}

}  // namespace sluice::warehouse
