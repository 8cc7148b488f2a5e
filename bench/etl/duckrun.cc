// duckrun: runs one SQL file on an in-memory DuckDB through the C API (the same library Sluice
// links) and prints the last statement's result as tab-separated lines. Used by bench/etl/run
// for the order generator, the DuckDB floor and the output fingerprints.
//   duckrun FILE.sql [NAME=VALUE ...]   every {{NAME}} in the file is replaced by VALUE
#include <duckdb.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: duckrun FILE.sql [NAME=VALUE ...]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "duckrun: cannot read %s\n", argv[1]);
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string sql = buf.str();
  for (int i = 2; i < argc; ++i) {
    std::string kv = argv[i];
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "duckrun: expected NAME=VALUE, got %s\n", argv[i]);
      return 2;
    }
    std::string key = "{{" + kv.substr(0, eq) + "}}", value = kv.substr(eq + 1);
    for (size_t p = sql.find(key); p != std::string::npos; p = sql.find(key, p + value.size())) {
      sql.replace(p, key.size(), value);
    }
  }
  if (auto p = sql.find("{{"); p != std::string::npos) {
    std::fprintf(stderr, "duckrun: %s: no value for %s\n", argv[1], sql.substr(p, 24).c_str());
    return 2;
  }
  duckdb_database db;
  duckdb_connection conn;
  if (duckdb_open(nullptr, &db) == DuckDBError || duckdb_connect(db, &conn) == DuckDBError) {
    std::fprintf(stderr, "duckrun: cannot open DuckDB\n");
    return 1;
  }
  duckdb_result result;
  int rc = 0;
  if (duckdb_query(conn, sql.c_str(), &result) == DuckDBError) {
    std::fprintf(stderr, "duckrun: %s: %s\n", argv[1], duckdb_result_error(&result));
    rc = 1;
  } else {
    idx_t cols = duckdb_column_count(&result), rows = duckdb_row_count(&result);
    for (idx_t r = 0; r < rows; ++r) {
      for (idx_t c = 0; c < cols; ++c) {
        char* v =
            duckdb_value_is_null(&result, c, r) ? nullptr : duckdb_value_varchar(&result, c, r);
        std::printf("%s%s", c ? "\t" : "", v ? v : "NULL");
        if (v) duckdb_free(v);
      }
      std::printf("\n");
    }
  }
  duckdb_destroy_result(&result);
  duckdb_disconnect(&conn);
  duckdb_close(&db);
  return rc;
}
