#include "catalog/json_lines.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <system_error>
#include <tuple>

#include "catalog/integrity.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

namespace fs = std::filesystem;

namespace {

// DuckDB's words for a line it cannot read: its file (the local path), the line and what.
struct LineFault {
  std::string path;
  int64_t line = 0;
  std::string what;
  bool misfit = false;  // the line is JSON, a value in it does not fit its column
};

std::optional<LineFault> ParseFault(const std::string& error) {
  static const std::regex malformed(
      R"re(Malformed JSON in file "([^"]+)", at byte \d+ in line (\d+): ([^\n]*))re");
  static const std::regex misfit(
      R"re(JSON transform error in file "([^"]+)", in line (\d+): ([^\n]*))re");
  std::smatch m;
  bool is_misfit = false;
  if (!std::regex_search(error, m, malformed)) {
    if (!std::regex_search(error, m, misfit)) return std::nullopt;
    is_misfit = true;
  }
  std::string what = Trim(m[3].str());
  while (!what.empty() && what.back() == '.') what.pop_back();
  int64_t line = 0;
  try {
    line = std::stoll(m[2].str());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return LineFault{m[1].str(), line, what, is_misfit};
}

// The key's name without the compression suffix DuckDB reads it by: the copy is plain text.
std::string PlainName(const std::string& key) {
  switch (CompressionOf(key)) {
    case Compression::kGzip:
      return key.substr(0, key.size() - 3);
    case Compression::kZstd:
      return key.substr(0, key.size() - 4);
    case Compression::kNone:
      break;
  }
  return key;
}

// Why a line's value does not fit. DuckDB names the first such line of a chunk but may quote the
// value of another one, so its words are kept only when the line holds the value they quote.
std::string MisfitReason(const std::string& what, const std::string& line) {
  auto colon = what.rfind(": ");
  if (colon != std::string::npos && colon + 2 < what.size() &&
      line.find(what.substr(colon + 2)) != std::string::npos) {
    return "malformed: " + what;
  }
  return "malformed: a value does not fit its column's type";
}

// JSON's name for the type DuckDB's json_type() gives in lower case.
std::string JsonTypeName(const std::string& duckdb_type) {
  if (duckdb_type == "varchar") return "string";
  if (duckdb_type == "bigint" || duckdb_type == "ubigint" || duckdb_type == "double") {
    return "number";
  }
  return duckdb_type;  // array, boolean, null
}

}  // namespace

JsonLineRepair::JsonLineRepair(engine::Connection& conn, const lake::Store& store)
    : conn_(conn), store_(store) {}

JsonLineRepair::~JsonLineRepair() {
  for (const auto& [key, split] : splits_) {
    try {
      conn_.Execute("DROP TABLE IF EXISTS " + split.table);
    } catch (const Error&) {
      // The connection is going away with the statement loop; its temp tables with it.
    }
  }
  if (scratch_) {
    std::error_code ec;
    fs::remove_all(*scratch_, ec);
  }
}

JsonLineRepair::Result JsonLineRepair::KeepOutWhole(const std::string& key, int64_t line,
                                                    const std::string& what,
                                                    const std::string& table) {
  bad_.erase(key);
  Result r{Outcome::kWholeFile, {key, line, what + "; the whole file is kept out", ""}};
  if (!table.empty() && line > 0) {
    // DuckDB names the line where its parser stopped; the fault may start on the line before.
    auto lines = conn_.Query(fmt::format(
        "SELECT string_agg(coalesce(line, ''), chr(10) ORDER BY n) FROM {} WHERE n BETWEEN {} "
        "AND {}",
        table, line - 1, line));
    r.whole.raw = lines.GetOr(0, 0);
  }
  return r;
}

JsonLineRepair::Result JsonLineRepair::NoRecordLeft(const std::string& key, int64_t line,
                                                    const std::string& what, const Split& split) {
  return KeepOutWhole(key, line, fmt::format("malformed JSON near line {}: {}", line, what),
                      split.table);
}

void JsonLineRepair::WriteCopy(const Split& split) {
  std::vector<std::string> misfits;
  for (int64_t n : split.misfits) misfits.push_back(std::to_string(n));
  conn_.Execute(fmt::format(
      "COPY (SELECT line FROM {} WHERE kind = 'ok'{} ORDER BY n) TO {} (FORMAT csv, HEADER "
      "false, QUOTE '', ESCAPE '', DELIMITER chr(31))",
      split.table, misfits.empty() ? "" : " AND n NOT IN (" + Join(misfits, ", ") + ")",
      SqlString(split.copy)));
}

JsonLineRepair::Result JsonLineRepair::Absorb(const std::string& error, lake::Fetched& local) {
  auto fault = ParseFault(error);
  if (!fault) return {};
  auto key = local.KeyOf(fault->path);
  if (!key) return {};

  auto found = splits_.find(*key);
  if (found != splits_.end()) {
    // A fault in the copy: every line parses, so a value does not fit its column. The copy's
    // line n is the n-th good line the copy still holds.
    Split& split = found->second;
    if (split.misfits.size() >= kMaxMisfits) {
      return KeepOutWhole(*key, 0,
                          fmt::format("more than {} lines hold values that do not fit the "
                                      "table's columns ({})",
                                      kMaxMisfits, fault->what),
                          "");
    }
    std::vector<std::string> misfits;
    for (int64_t n : split.misfits) misfits.push_back(std::to_string(n));
    auto at = conn_.Query(fmt::format(
        "SELECT n, line FROM {} WHERE kind = 'ok'{} ORDER BY n LIMIT 1 OFFSET {}", split.table,
        misfits.empty() ? "" : " AND n NOT IN (" + Join(misfits, ", ") + ")", fault->line - 1));
    if (at.row_count() == 0) return {};
    int64_t n = at.GetInt(0, 0);
    split.misfits.insert(n);
    if (split.misfits.size() >= split.good) return NoRecordLeft(*key, n, fault->what, split);
    std::string raw = at.GetOr(1, 0);
    bad_[*key].push_back({*key, n, MisfitReason(fault->what, raw), raw});
    WriteCopy(split);
    return {Outcome::kRepaired, {}};
  }

  // The first fault in this file: sort its lines into records and the rest.
  Split split;
  split.table = fmt::format("_sluice_json_lines_{}", splits_.size());
  try {
    // In file order (each line's number is its row's): insertion order holds for this query.
    auto kept = conn_.Query("SELECT current_setting('preserve_insertion_order')").GetOr(0, 0);
    conn_.Execute("SET preserve_insertion_order = true");
    std::shared_ptr<void> restore(nullptr, [&](void*) {
      try {
        conn_.Execute(std::string("SET preserve_insertion_order = ") +
                      (kept == "true" ? "true" : "false"));
      } catch (const Error&) {
        // A setting DuckDB took a moment ago: nothing to fail on.
      }
    });
    conn_.Execute(fmt::format(
        "CREATE TEMP TABLE {} AS SELECT n, line, CASE WHEN line IS NULL OR trim(line) = '' THEN "
        "'blank' WHEN NOT json_valid(line) THEN 'invalid' WHEN json_type(line::JSON) <> 'OBJECT' "
        "THEN lower(json_type(line::JSON)) ELSE 'ok' END AS kind FROM (SELECT row_number() OVER "
        "() AS n, line FROM read_csv({}, header = false, auto_detect = false, columns = "
        "{{'line': 'VARCHAR'}}, delim = chr(31), quote = '', escape = '', strict_mode = false))",
        split.table, SqlString(fault->path)));
  } catch (const Error&) {
    // Not text by lines (a line too long, bytes that are not UTF-8): one document to DuckDB.
    return KeepOutWhole(*key, fault->line,
                        fmt::format("malformed JSON near line {}: {}", fault->line, fault->what),
                        "");
  }
  auto shape = conn_.Query(fmt::format(
      "SELECT count(*) FILTER (WHERE kind = 'ok'), count(*) FILTER (WHERE kind NOT IN ('ok', "
      "'blank')), (SELECT starts_with(ltrim(line), '{{') FROM {} WHERE kind <> 'blank' ORDER BY "
      "n LIMIT 1) FROM {}",
      split.table, split.table));
  int64_t good = shape.GetInt(0, 0), bad = shape.GetInt(1, 0);
  split.good = static_cast<size_t>(good);
  if (good == 0 || shape.GetOr(2, 0) != "true") {
    // One document (an array or an object over many lines), or no record at all.
    splits_.emplace(*key, std::move(split));  // its temp table goes with the others
    return KeepOutWhole(*key, fault->line,
                        fmt::format("malformed JSON near line {}: {}", fault->line, fault->what),
                        splits_.at(*key).table);
  }
  if (static_cast<size_t>(bad) > kMaxBadLines) {
    splits_.emplace(*key, std::move(split));
    return KeepOutWhole(
        *key, 0, fmt::format("{} lines are not JSON records (more than {})", bad, kMaxBadLines),
        "");
  }
  auto lines = conn_.Query(fmt::format(
      "SELECT n, line, kind FROM {} WHERE kind NOT IN ('ok', 'blank') ORDER BY n", split.table));
  auto& out = bad_[*key];
  if (fault->misfit) {
    // Every line parsed up to this one, which is the file's own line number.
    auto at = conn_.Query(
        fmt::format("SELECT line FROM {} WHERE n = {} AND kind = 'ok'", split.table, fault->line));
    if (at.row_count() == 1) {
      split.misfits.insert(fault->line);
      if (split.misfits.size() >= split.good) {
        splits_.emplace(*key, std::move(split));
        return NoRecordLeft(*key, fault->line, fault->what, splits_.at(*key));
      }
      out.push_back({*key, fault->line, MisfitReason(fault->what, at.GetOr(0, 0)), at.GetOr(0, 0)});
    }
  }
  for (size_t i = 0; i < lines.row_count(); ++i) {
    std::string kind = lines.GetOr(2, i);
    out.push_back({*key, lines.GetInt(0, i),
                   kind == "invalid"
                       ? std::string("malformed: the line is not valid JSON")
                       : fmt::format("malformed: the line holds a JSON {}, not an object",
                                     JsonTypeName(kind)),
                   lines.GetOr(1, i)});
  }
  if (!scratch_) scratch_ = store_.ScratchDir();
  fs::path copy = *scratch_ / PlainName(*key);
  std::error_code ec;
  fs::create_directories(copy.parent_path(), ec);
  if (ec) Fail(ErrorKind::kIo, "cannot create {}: {}", copy.parent_path().string(), ec.message());
  split.copy = copy.string();
  WriteCopy(split);
  local.Substitute(*key, split.copy, scratch_->string() + "/");
  splits_.emplace(*key, std::move(split));
  return {Outcome::kRepaired, {}};
}

std::vector<BadLine> JsonLineRepair::bad_lines() const {
  std::vector<BadLine> out;
  for (const auto& [key, lines] : bad_) {
    out.insert(out.end(), lines.begin(), lines.end());
  }
  std::sort(out.begin(), out.end(), [](const BadLine& a, const BadLine& b) {
    return std::tie(a.key, a.line) < std::tie(b.key, b.line);
  });
  return out;
}

}  // namespace sluice::catalog
