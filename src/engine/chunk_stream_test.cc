#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/interrupt.h"
#include "engine/engine.h"

namespace sluice::engine {
namespace {

TEST(ChunkStream, StreamsEveryRowInOrderAChunkAtATime) {
  Database db("", 2);
  Connection conn(db);
  int64_t chunks = 0;
  int64_t rows = 0;
  int64_t next = 0;
  bool in_order = true;
  conn.Stream("SELECT range AS i FROM range(5000000)", [&](duckdb_data_chunk chunk) {
    idx_t size = duckdb_data_chunk_get_size(chunk);
    EXPECT_GT(size, 0u);
    EXPECT_LE(size, duckdb_vector_size());
    auto* values =
        static_cast<const int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)));
    for (idx_t r = 0; r < size; ++r) in_order = in_order && values[r] == next++;
    ++chunks;
    rows += static_cast<int64_t>(size);
  });
  EXPECT_EQ(rows, 5'000'000);
  EXPECT_TRUE(in_order);
  EXPECT_GE(chunks, 5'000'000 / static_cast<int64_t>(duckdb_vector_size()));
}

// Five billion rows would take minutes to materialize (and 40 GB): the first chunks arrive at
// once only because nothing is materialized, and dropping the stream abandons the rest.
TEST(ChunkStream, FirstChunksOfAHugeAnswerArriveWithoutMaterializingIt) {
  Database db("", 2);
  Connection conn(db);
  auto start = std::chrono::steady_clock::now();
  {
    ChunkStream stream(conn, "SELECT range AS i, range::VARCHAR AS s FROM range(5000000000)");
    ASSERT_EQ(stream.column_count(), 2u);
    EXPECT_EQ(stream.column_name(1), "s");
    EXPECT_EQ(stream.column_type(0), DUCKDB_TYPE_BIGINT);
    EXPECT_EQ(stream.column_type(1), DUCKDB_TYPE_VARCHAR);
    for (int i = 0; i < 3; ++i) ASSERT_NE(stream.Next(), nullptr);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The connection is free again.
  EXPECT_EQ(conn.Query("SELECT 7").GetInt(0, 0), 7);
}

TEST(ChunkStream, EmptyAnswerHasColumnsAndNoChunk) {
  Database db;
  Connection conn(db);
  ChunkStream stream(conn, "SELECT 1 AS a WHERE false");
  EXPECT_EQ(stream.column_count(), 1u);
  EXPECT_EQ(stream.Next(), nullptr);
  EXPECT_EQ(stream.Next(), nullptr);
}

TEST(ChunkStream, ErrorsBeforeAndWhileStreaming) {
  Database db("", 2);
  Connection conn(db);
  try {
    ChunkStream stream(conn, "SELECT nope FROM range(3)");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "input.sql");
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  // A value that fails after many chunks have been read.
  int64_t rows = 0;
  try {
    conn.Stream(
        "SELECT CASE WHEN i < 3000000 THEN i::VARCHAR ELSE error('boom at ' || i) END "
        "FROM range(5000000) t(i)",
        [&](duckdb_data_chunk chunk) { rows += duckdb_data_chunk_get_size(chunk); });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("boom at"), std::string::npos) << e.what();
  }
  EXPECT_LE(rows, 3'000'000);
  EXPECT_EQ(conn.Query("SELECT 7").GetInt(0, 0), 7);
}

TEST(ChunkStream, InterruptStopsBetweenChunks) {
  Database db("", 2);
  Connection conn(db);
  std::atomic<bool> stop{false};
  ScopedStop scope(&stop);
  int64_t chunks = 0;
  try {
    conn.Stream("SELECT range FROM range(5000000000)", [&](duckdb_data_chunk) {
      if (++chunks == 10) stop = true;
    });
    FAIL() << "not interrupted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInterrupted);
  }
  EXPECT_EQ(chunks, 10);
}

TEST(ChunkStream, InterruptStopsAStatementBeforeItsFirstRows) {
  Database db("", 2);
  Connection conn(db);
  std::atomic<bool> stop{false};
  ScopedStop scope(&stop);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  auto start = std::chrono::steady_clock::now();
  try {
    // An aggregate over ten billion rows: no row comes out until it is done.
    conn.Stream("SELECT count(*) FROM range(100000000) a, range(100) b", [](duckdb_data_chunk) {});
    ADD_FAILURE() << "not interrupted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInterrupted) << e.what();
  }
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace sluice::engine
