#pragma once
// JSON lines with bad lines among them. DuckDB's JSON reader stops a statement at the first line
// it cannot read. Sluice keeps such a line out instead (quarantined with its file and line) and
// lets the file's other lines flow on, as CSV lines do: the file is read from a copy holding its
// good lines only. A file that is one JSON document (not a record per line) cannot be split: it
// is kept out whole, as one quarantined record.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"

namespace sluice::catalog {

struct BadLine {
  std::string key;   // the landed file
  int64_t line = 0;  // 1-based, in the file as it landed
  std::string reason, raw;
};

// Not thread-safe: one statement loop at a time uses it, on one connection.
class JsonLineRepair {
 public:
  // Lines kept out of one file before the whole file is kept out instead.
  static constexpr size_t kMaxBadLines = 1000;
  // Lines whose values do not fit the table's columns, kept out one statement at a time.
  static constexpr size_t kMaxMisfits = 100;

  // Copies are written under a scratch folder of `store` (made on the first repair, removed
  // with this object); they stay readable while it lives.
  JsonLineRepair(engine::Connection& conn, const lake::Store& store);
  ~JsonLineRepair();
  JsonLineRepair(const JsonLineRepair&) = delete;
  JsonLineRepair& operator=(const JsonLineRepair&) = delete;

  enum class Outcome {
    kNotALine,   // the error is not DuckDB's about a line of a fetched JSON file: rethrow it
    kRepaired,   // the file it names now reads from a copy without the bad lines: run again
    kWholeFile,  // the file is one document, or holds too many bad lines: keep it out whole
  };
  struct Result {
    Outcome outcome = Outcome::kNotALine;
    BadLine whole;  // kWholeFile: the file, the line at fault, the reason and those lines
  };
  // `error` is what a statement reading JSON files through `local` threw. kRepaired substitutes
  // the copy for the file in `local`. Throws Error when the copy cannot be written.
  Result Absorb(const std::string& error, lake::Fetched& local);

  // Lines kept out so far (not those of files kept out whole), by file and line.
  std::vector<BadLine> bad_lines() const;

 private:
  struct Split {
    std::string table;  // the file's lines: n, line, kind
    std::string copy;   // the local copy read instead of the file
    size_t good = 0;    // lines that hold a JSON object
    std::set<int64_t> misfits;
  };
  // Every record line of the file is bad: it is kept out whole, at `line` for `what`.
  Result NoRecordLeft(const std::string& key, int64_t line, const std::string& what,
                      const Split& split);
  Result KeepOutWhole(const std::string& key, int64_t line, const std::string& what,
                      const std::string& table);
  void WriteCopy(const Split& split);

  engine::Connection& conn_;
  const lake::Store& store_;
  std::optional<std::filesystem::path> scratch_;
  std::map<std::string, Split> splits_;  // by key
  std::map<std::string, std::vector<BadLine>> bad_;
};

}  // namespace sluice::catalog
