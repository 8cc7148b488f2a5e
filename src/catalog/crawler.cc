#include "catalog/crawler.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "catalog/catalog.h"
#include "catalog/csv_text.h"
#include "catalog/integrity.h"
#include "catalog/json_lines.h"
#include "catalog/pii_tags.h"
#include "catalog/types.h"
#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/zones.h"
#include "quality/check_specs.h"

namespace sluice::catalog {

using nlohmann::json;

namespace {

struct FileSchema {
  std::string format;
  std::vector<meta::Column> columns;  // data columns, in file order
  json dialect = json::object();      // CSV: delim, quote, escape, header, dateformat, ...
};

std::string Scalar(engine::Result& r, size_t col) { return r.GetOr(col, 0); }

// The rows DuckDB's sniffer samples; a large or compressed CSV file is typed by these.
constexpr int64_t kSampleRows = 20480;

// Types every column of `paths` (files of one header and dialect) by its values: the first of
// kValueTypes that every value converts to without loss (VARCHAR when none does; "NULL", which
// fits any type, when the column holds no value). The files are read as the job will read them,
// with the dialect and the header's columns, all as text; malformed lines are skipped, so a few
// bad lines never type a column. `sample_rows` > 0 reads only that many rows. DuckDB's sniffer
// is no judge here: it types a one-row file's columns VARCHAR, samples one file at a time, and
// takes lossy casts (a 20-digit integer as DOUBLE).
void TypeByValues(engine::Connection& conn, const std::vector<std::string>& paths,
                  FileSchema& schema, int64_t sample_rows) {
  std::vector<std::string> tests, as_text;
  for (const auto& c : schema.columns) {
    std::string col = SqlIdent(c.name);
    as_text.push_back(SqlString(c.name) + ": 'VARCHAR'");
    tests.push_back(fmt::format("count({}) > 0", col));
    for (const char* type : kValueTypes) {
      const char* format_key = std::string(type) == "DATE"        ? "dateformat"
                               : std::string(type) == "TIMESTAMP" ? "timestampformat"
                                                                  : nullptr;
      std::string format = format_key && schema.dialect.contains(format_key)
                               ? schema.dialect[format_key].get<std::string>()
                               : "";
      tests.push_back(fmt::format("bool_and({0} IS NULL OR coalesce(({1}), false))", col,
                                  ConvertsLosslessly(type, col, format)));
    }
  }
  std::vector<std::string> args = {SqlStringList(paths), "columns = {" + Join(as_text, ", ") + "}",
                                   "auto_detect = false", "ignore_errors = true",
                                   "hive_partitioning = false"};
  for (const char* key : {"delim", "quote", "escape"}) {
    if (schema.dialect.contains(key)) {
      args.push_back(
          fmt::format("{} = {}", key, SqlString(schema.dialect[key].get<std::string>())));
    }
  }
  args.push_back(std::string("header = ") +
                 (schema.dialect.value("header", true) ? "true" : "false"));
  for (auto& arg : ReadingArgs(schema.dialect)) args.push_back(std::move(arg));
  auto r = conn.Query(fmt::format("SELECT {} FROM (SELECT * FROM read_csv({}){})",
                                  Join(tests, ", "), Join(args, ", "),
                                  sample_rows > 0 ? fmt::format(" LIMIT {}", sample_rows) : ""));
  size_t i = 0;
  for (auto& c : schema.columns) {
    bool has_values = r.GetOr(i++, 0) == "true";
    c.type = has_values ? "VARCHAR" : "NULL";
    for (const char* type : kValueTypes) {
      if (r.GetOr(i++, 0) == "true" && has_values && c.type == "VARCHAR") c.type = type;
    }
  }
}

FileSchema Inspect(engine::Connection& conn, const std::string& path, const std::string& format,
                   const project::Source& source) {
  FileSchema schema;
  schema.format = format;
  if (format == "csv") {
    std::vector<std::string> args = {SqlString(path)};
    if (!source.delimiter.empty()) args.push_back("delim = " + SqlString(source.delimiter));
    if (!source.quote.empty()) args.push_back("quote = " + SqlString(source.quote));
    if (source.header)
      args.push_back(std::string("header = ") + (*source.header ? "true" : "false"));
    json declared = json::object();
    RecordReadingOptions(source, declared);
    for (auto& arg : ReadingArgs(declared)) args.push_back(std::move(arg));
    for (const char* key : {"dateformat", "timestampformat"}) {
      if (declared.contains(key)) {
        args.push_back(fmt::format("{} = {}", key, SqlString(declared[key].get<std::string>())));
      }
    }
    auto sniff = [&](const std::vector<std::string>& a) {
      return conn.Query(
          fmt::format("SELECT Delimiter, Quote, Escape, HasHeader, DateFormat, TimestampFormat, "
                      "to_json(Columns) FROM sniff_csv({})",
                      Join(a, ", ")));
    };
    // A malformed line in the sample can make the strict sniffer fail, or settle for one
    // column. Skipping such lines (ignore_errors) finds the shape of the others, so that a few
    // bad lines never define the columns (padding would size the table by the longest line);
    // null_padding is the last resort. Reading later is strict and quarantines bad lines.
    auto tolerant_args = args;
    tolerant_args.push_back("ignore_errors = true");
    auto padded_args = args;
    padded_args.push_back("null_padding = true");
    bool padded = false;
    auto r = [&] {
      for (const auto* attempt : {&args, &tolerant_args}) {
        try {
          auto sniffed = sniff(*attempt);
          if (json::parse(Scalar(sniffed, 6)).size() > 1) return sniffed;
        } catch (const Error&) {
          // This sniff found no dialect: the next, more tolerant one may.
        }
      }
      padded = true;
      return sniff(padded_args);
    }();
    schema.dialect["delim"] = Scalar(r, 0);
    // DuckDB reports "no quote" as the text "(empty)". A file without quotes says nothing about
    // how the source quotes: its later files may well quote, so the table reads them by RFC 4180
    // (a field in '"', a '"' in it doubled) unless the sniffer saw other characters.
    auto one_char = [](const std::string& v) { return v.size() == 1 && v[0] != '\0'; };
    std::string quote = one_char(Scalar(r, 1)) ? Scalar(r, 1) : "\"";
    schema.dialect["quote"] = quote;
    schema.dialect["escape"] = one_char(Scalar(r, 2)) ? Scalar(r, 2) : quote;
    schema.dialect["header"] = Scalar(r, 3) == "true";
    if (auto v = r.Get(4, 0)) schema.dialect["dateformat"] = *v;
    if (auto v = r.Get(5, 0)) schema.dialect["timestampformat"] = *v;
    RecordReadingOptions(source, schema.dialect);
    for (const auto& c : json::parse(Scalar(r, 6))) {
      schema.columns.push_back({c["name"], c["type"], false});
    }
    if (padded && schema.dialect["header"].get<bool>()) {
      // Padding sizes the table by its longest line; the header line decides the columns.
      auto first = conn.Query(fmt::format(
          "SELECT * FROM read_csv({}, header = false, all_varchar = true, null_padding = true, "
          "hive_partitioning = false, delim = {}, {}) LIMIT 1",
          SqlString(path), SqlString(schema.dialect["delim"].get<std::string>()),
          Join(ReadingArgs(schema.dialect, false), ", ")));
      size_t fields = 0;
      for (size_t c = 0; c < first.column_count(); ++c) fields += first.Get(c, 0).has_value();
      if (fields > 0 && fields < schema.columns.size()) schema.columns.resize(fields);
    }
    return schema;
  }
  if (format == "parquet") {
    auto r = conn.Query(fmt::format(
        "DESCRIBE SELECT * FROM read_parquet({}, hive_partitioning = false)", SqlString(path)));
    for (size_t i = 0; i < r.row_count(); ++i) {
      schema.columns.push_back({r.GetOr(0, i), r.GetOr(1, i), false});
    }
    return schema;
  }
  // JSON: the job reads records (objects) with named columns. records = true refuses a sample
  // whose top level holds other values (DuckDB would otherwise describe one column `json`).
  std::string args = fmt::format("{}, hive_partitioning = false, format = 'auto', records = true",
                                 SqlString(path));
  try {
    auto r = conn.Query(fmt::format("DESCRIBE SELECT * FROM read_json({})", args));
    std::vector<std::string> types;
    for (size_t i = 0; i < r.row_count(); ++i) {
      schema.columns.push_back({r.GetOr(0, i), r.GetOr(1, i), false});
      types.push_back(SqlString(r.GetOr(0, i)) + ": " + SqlString(r.GetOr(1, i)));
    }
    // Describing looks at the structure only; reading the sample as the job will (these columns)
    // finds what only reading does, such as an object with a key twice.
    conn.Query(fmt::format(
        "SELECT count(COLUMNS(*)) FROM (SELECT * FROM read_json({}, columns = {{{}}}) LIMIT {})",
        args, Join(types, ", "), kSampleRows));
  } catch (const Error& e) {
    if (std::string(e.what()).find("expected records") != std::string::npos) {
      FailWithCode(
          ErrorKind::kInput, "input.not_json_objects",
          "its top level holds values other than objects; each record must be a JSON object");
    }
    throw;
  }
  return schema;
}

struct Inferred {
  FileSchema schema;
  std::string error;     // why the file cannot be read; empty when `schema` holds
  bool damaged = false;  // its compressed data is cut short or corrupt (`error` says how)
};

// Reads the first line of a small plain file ("" when it cannot).
std::string FirstLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  return line;
}

// The schema of every file in `keys` (all CSV, JSON or Parquet). Small CSV files that share a
// header line are inferred together: one dialect sniff and one typing query per group, which
// keeps a crawl of a thousand small files to a handful of queries.
// A JSON lines file with bad lines in its sample is inferred from a copy of its good lines,
// which `local` reads from then on (json_lines.h); the job quarantines the bad lines. A CSV file
// is measured line by line first, and one in an encoding DuckDB cannot read is read from a UTF-8
// copy from then on (csv_text.h); a file that does not fit its source's encoding or
// max_line_size is kept out whole, with the line.
std::map<std::string, Inferred> InferSchemas(engine::Connection& conn, lake::Fetched& local,
                                             JsonLineRepair& json_lines, Utf8Copies& utf8,
                                             const std::vector<lake::ObjectInfo>& files,
                                             const std::map<std::string, std::string>& formats,
                                             const project::Source& source) {
  constexpr uint64_t kSmall = 256 * 1024;
  std::map<std::string, Inferred> out;
  std::vector<const lake::ObjectInfo*> readable;
  for (const auto& f : files) {
    if (formats.at(f.key) == "csv" && f.size > 0) {
      if (auto fault = utf8.Prepare(f.key, source.encoding, source.max_line_size, local)) {
        out[f.key].error = fmt::format(
            "cannot read the file as csv: {}; the whole file is kept out", fault->reason);
        continue;
      }
    }
    readable.push_back(&f);
  }
  auto one = [&](const lake::ObjectInfo& f) {
    Inferred& inferred = out[f.key];
    const std::string& format = formats.at(f.key);
    try {
      if (f.size > 0) {
        std::string path = local.Path(f.key);
        Compression c = CompressionOf(f.key);
        inferred.error = c != Compression::kNone ? CompressedDamage(path, c)
                         : format == "parquet"   ? ParquetDamage(path)
                                                 : "";
        inferred.damaged = !inferred.error.empty();
        if (inferred.damaged) return;
      }
      for (;;) {
        try {
          inferred.schema = Inspect(conn, local.Path(f.key), format, source);
          break;
        } catch (const Error& e) {
          if (format != "json") throw;
          auto absorbed = json_lines.Absorb(e.what(), local);
          if (absorbed.outcome == JsonLineRepair::Outcome::kWholeFile) {
            inferred.error = "cannot read the file as json: " + absorbed.whole.reason;
            return;
          }
          if (absorbed.outcome != JsonLineRepair::Outcome::kRepaired) throw;
        }
      }
      if (format == "csv") {
        bool whole = f.size < kSmall && FormatOfKey(f.key) == "csv" &&
                     CompressionOf(f.key) == Compression::kNone;
        TypeByValues(conn, {local.Path(f.key)}, inferred.schema, whole ? 0 : kSampleRows);
      }
    } catch (const Error& e) {
      if (std::string(e.what()).find("Maximum line size of") != std::string::npos) {
        // DuckDB names the wrong line here; Sluice measures plain files itself (csv_text.h).
        inferred.error = fmt::format(
            "cannot read the file as csv: a line is longer than max_line_size ({} bytes); the "
            "whole file is kept out",
            source.max_line_size);
        return;
      }
      // DuckDB names the file by its local path; the reason names it by its key.
      std::string why = Trim(Split(e.what(), '\n').front());
      static const std::regex kind(R"(^[A-Z][A-Za-z ]* Error: )");
      why = std::regex_replace(why, kind, "");
      ReplaceAll(why, local.Path(f.key), f.key);
      inferred.error = fmt::format("cannot read the file as {}: {}", format, why);
    }
  };
  std::map<std::string, std::vector<const lake::ObjectInfo*>> groups;
  for (const auto* file : readable) {
    const lake::ObjectInfo& f = *file;
    bool groupable = formats.at(f.key) == "csv" && f.size < kSmall && FormatOfKey(f.key) == "csv" &&
                     CompressionOf(f.key) == Compression::kNone;
    std::string header = groupable ? FirstLine(local.Path(f.key)) : "";
    if (header.empty()) {
      one(f);
    } else {
      groups[header].push_back(&f);
    }
  }
  for (const auto& [header, members] : groups) {
    if (members.size() == 1) {
      one(*members.front());
      continue;
    }
    try {
      FileSchema schema = Inspect(conn, local.Path(members.front()->key), "csv", source);
      std::vector<std::string> paths;
      for (const auto* m : members) paths.push_back(local.Path(m->key));
      TypeByValues(conn, paths, schema, 0);
      for (const auto* m : members) out[m->key].schema = schema;
    } catch (const Error&) {
      // Some file of the group does not read like the first one: look at each on its own.
      for (const auto* m : members) one(*m);
    }
  }
  return out;
}

// How a file's columns differ from the table's: empty when it fits as is.
struct Drift {
  std::vector<meta::Column> added;
  std::vector<std::pair<meta::Column, std::string>> widened;  // column (new type), old type
  std::vector<std::string> missing;
  // What no schema change can absorb: a CSV dialect mismatch, or a Parquet column whose type
  // changes to or from a nested one (DuckDB cannot read both as one column).
  std::string unabsorbable;
  bool any() const {
    return !added.empty() || !widened.empty() || !missing.empty() || !unabsorbable.empty();
  }
  std::string str() const {
    if (!unabsorbable.empty()) return unabsorbable;  // the column differences follow from it
    std::vector<std::string> parts;
    for (const auto& c : added) parts.push_back(fmt::format("new column {} {}", c.name, c.type));
    for (const auto& [c, old] : widened) {
      parts.push_back(fmt::format("column {} changes type {} -> {}", c.name, old, c.type));
    }
    for (const auto& m : missing) parts.push_back(fmt::format("column {} is missing", m));
    return Join(parts, "; ");
  }
};

// A STRUCT, MAP, UNION or list type.
bool Nested(const std::string& type) {
  return type.find('[') != std::string::npos || type.rfind("STRUCT", 0) == 0 ||
         type.rfind("MAP", 0) == 0 || type.rfind("UNION", 0) == 0;
}

Drift Compare(const std::vector<meta::Column>& table, const FileSchema& file,
              const json& table_dialect) {
  Drift drift;
  std::map<std::string, std::string> have;
  for (const auto& c : table) {
    if (!c.partition) have[ToLower(c.name)] = c.type;
  }
  std::set<std::string> seen;
  for (const auto& c : file.columns) {
    seen.insert(ToLower(c.name));
    auto it = have.find(ToLower(c.name));
    if (it == have.end()) {
      drift.added.push_back(c);
    } else if (file.format == "parquet" && c.type != it->second &&
               (Nested(c.type) || Nested(it->second))) {
      drift.unabsorbable = fmt::format(
          "column {} changes type {} -> {}, which no one column can hold: DuckDB cannot read "
          "both as one",
          c.name, it->second, c.type);
    } else if (!FitsIn(c.type, it->second)) {
      drift.widened.push_back({{c.name, WidenType(c.type, it->second), false}, it->second});
    }
  }
  for (const auto& c : table) {
    if (!c.partition && !seen.count(ToLower(c.name))) drift.missing.push_back(c.name);
  }
  if (file.format == "csv" && table_dialect.contains("delim") &&
      file.dialect.value("delim", "") != table_dialect.value("delim", "")) {
    drift.unabsorbable =
        fmt::format("delimiter '{}' differs from the table's '{}'", file.dialect.value("delim", ""),
                    table_dialect.value("delim", ""));
  } else if (file.format == "csv" && table_dialect.contains("header") &&
             file.dialect.value("header", true) != table_dialect.value("header", true)) {
    drift.unabsorbable = file.dialect.value("header", true)
                             ? "the file has a header line and the table's files have none"
                             : "the file has no header line and the table's files have one";
  }
  return drift;
}

// A column type the table can hold: "NULL" (no value seen yet) becomes VARCHAR.
meta::Column Storable(meta::Column c) {
  if (c.type == "NULL") c.type = "VARCHAR";
  return c;
}

void Apply(const Drift& drift, std::vector<meta::Column>& columns) {
  for (const auto& [c, old] : drift.widened) {
    for (auto& have : columns) {
      if (ToLower(have.name) == ToLower(c.name)) have.type = c.type;
    }
  }
  // New data columns go before the partition columns.
  auto first_partition = std::find_if(columns.begin(), columns.end(),
                                      [](const meta::Column& c) { return c.partition; });
  for (const auto& c : drift.added)
    first_partition = columns.insert(first_partition, Storable(c)) + 1;
}

// The rows of the files a crawl is about to register (the `active` ones of `change`), with
// every column of the table: a column no new file has reads as NULL. With `file_index`, each
// row's `_sluice_file` numbers its file in `files` (1-based). "" when no file is left.
std::string NewRows(const meta::TableChange& change, std::vector<meta::TableFile>& files,
                    const lake::Fetched& local, engine::Connection& conn, bool file_index) {
  meta::Table table;
  table.db = change.db;
  table.name = change.name;
  table.format = change.format;
  table.options = change.options;
  table.columns = change.columns;
  files.clear();
  for (const auto& f : change.added) {
    if (f.status == meta::FileStatus::kActive) files.push_back(f);
  }
  if (files.empty()) return "";
  std::string scan =
      ScanSql(table, files, local, {.capture_rejects = true, .file_index = file_index});
  std::set<std::string> have;
  auto d = conn.Query("DESCRIBE SELECT * FROM " + scan);
  for (size_t i = 0; i < d.row_count(); ++i) have.insert(ToLower(d.GetOr(0, i)));
  std::vector<std::string> missing;
  for (const auto& c : table.columns) {
    if (!have.count(ToLower(c.name))) {
      missing.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
    }
  }
  if (missing.empty()) return scan;
  return fmt::format("(SELECT *, {} FROM {})", Join(missing, ", "), scan);
}

// The new files of `change` whose own header (or key=value folders) lacks `column`. A source's
// ColumnExists judges each file by itself: the new files read together hold every column of the
// table, NULL where a file has none, so the rows alone cannot tell.
std::vector<std::string> FilesLacking(const meta::TableChange& change, const std::string& column) {
  std::vector<std::string> out;
  const std::string wanted = ToLower(column);
  for (const auto& f : change.added) {
    auto names = OwnColumns(f.columns);
    if (f.status != meta::FileStatus::kActive || !names) continue;
    bool has = false;
    for (const auto& n : *names) has = has || ToLower(n) == wanted;
    for (const auto& part : Split(f.partition, '/')) {
      has = has || ToLower(part.substr(0, part.find('='))) == wanted;
    }
    if (!has) out.push_back(f.key);
  }
  return out;
}

// The source's quarantining checks over the new files: the files holding rows that break them
// (key -> reason). A landed file is kept as it came, so a file is kept out whole.
std::map<std::string, std::string> FilesBreaking(const std::vector<quality::Rule>& rules,
                                                 const meta::TableChange& change,
                                                 const lake::Fetched& local,
                                                 engine::Connection& conn) {
  std::vector<std::string> passes, counts;
  for (const auto& r : rules) {
    if (r.on_fail != "quarantine") continue;
    passes.push_back(fmt::format("coalesce(({}), false) AS p{}", r.PassSql(), passes.size()));
    counts.push_back(fmt::format("count(*) FILTER (WHERE NOT p{})", counts.size()));
  }
  std::map<std::string, std::string> out;
  std::vector<meta::TableFile> files;
  if (passes.empty()) return out;
  std::string rows = NewRows(change, files, local, conn, true);
  if (rows.empty()) return out;
  auto broken = conn.Query(fmt::format(
      "SELECT _sluice_file, {} FROM (SELECT _sluice_file, {} FROM {}) GROUP BY 1 ORDER BY 1",
      Join(counts, ", "), Join(passes, ", "), rows));
  for (size_t row = 0; row < broken.row_count(); ++row) {
    std::vector<std::string> reasons;
    size_t col = 1;
    for (const auto& r : rules) {
      if (r.on_fail != "quarantine") continue;
      int64_t n = broken.GetInt(col++, row);
      if (n > 0) {
        reasons.push_back(fmt::format("check: {} ({} row{})", r.text, n, n == 1 ? "" : "s"));
      }
    }
    if (!reasons.empty()) out[files.at(broken.GetInt(0, row) - 1).key] = Join(reasons, "; ");
  }
  return out;
}

// At most kNamedFiles keys, then "and N more".
constexpr size_t kNamedFiles = 5;
std::string NameSome(const std::vector<std::string>& keys) {
  std::vector<std::string> named(
      keys.begin(), keys.begin() + static_cast<long>(std::min(keys.size(), kNamedFiles)));
  std::string out = Join(named, ", ");
  if (keys.size() > named.size()) out += fmt::format(" and {} more", keys.size() - named.size());
  return out;
}

// Adds to the message of each failing fail or warn result (`results` in the order of `judged`)
// the new files that broke it: those whose rows alone fail the rule, or, when none does alone (a
// rule over the whole batch, such as RowCount), all of them together.
void NameBreakingFiles(std::vector<meta::CheckResult>& results,
                       const std::vector<quality::Rule>& judged, const meta::TableChange& change,
                       const lake::Fetched& local, const quality::History& history,
                       engine::Connection& conn) {
  std::vector<meta::TableFile> files;
  std::string rows;
  for (size_t i = 0; i < judged.size() && i < results.size(); ++i) {
    auto& result = results[i];
    if (result.outcome != "fail") continue;
    if (rows.empty()) rows = NewRows(change, files, local, conn, true);
    std::vector<std::string> alone, all;
    for (size_t f = 0; f < files.size(); ++f) {
      all.push_back(files[f].key);
      std::string one = fmt::format(
          "(SELECT * EXCLUDE (_sluice_file) FROM {} WHERE _sluice_file = {})", rows, f + 1);
      auto r = quality::Evaluate(conn, one, result.table, {judged[i]}, history);
      if (!r.empty() && r[0].outcome == "fail") alone.push_back(files[f].key);
    }
    result.message += alone.empty()
                          ? fmt::format("; over the new files together: {}", NameSome(all))
                          : fmt::format("; broken by new file{} {}", alone.size() == 1 ? "" : "s",
                                        NameSome(alone));
  }
}

// The source's fail and warn checks over the rows of the new files that remain, each failing one
// naming the files that broke it, then each quarantining rule with the number of files it kept
// out.
std::vector<meta::CheckResult> JudgeNewFiles(const std::vector<quality::Rule>& rules,
                                             const meta::TableChange& change,
                                             const CrawlReport& report, const lake::Fetched& local,
                                             meta::Metastore& metastore, engine::Connection& conn) {
  std::string output = change.db + "." + change.name;
  quality::History history = [&](const std::string& rule, size_t n) {
    return metastore.RuleHistory(output, rule, n, "crawl");
  };
  std::vector<meta::TableFile> files;
  std::string rows = NewRows(change, files, local, conn, false);
  std::vector<quality::Rule> judged;
  for (const auto& r : rules) {
    if (r.on_fail != "quarantine") judged.push_back(r);
  }
  // No file left to register (rows ""): nothing to judge, and no figure for the history.
  auto results = quality::Judge(conn, rows, output, rules, history, [&](const quality::Rule& r) {
    int64_t kept = 0;
    for (const auto& [key, reason] : report.held) {
      kept += reason.find(fmt::format("check: {} (", r.text)) != std::string::npos;
    }
    return meta::CheckResult{output,
                             r.text,
                             r.on_fail,
                             kept ? "fail" : "pass",
                             fmt::format("{} file{} quarantined", kept, kept == 1 ? "" : "s"),
                             kept,
                             fmt::format("{} file{} kept out", kept, kept == 1 ? "" : "s")};
  });
  if (!rows.empty()) NameBreakingFiles(results, judged, change, local, history, conn);
  for (const auto& r : judged) {
    if (r.type != "ColumnExists" || r.args.empty()) continue;
    auto lacking = FilesLacking(change, r.args[0]);
    if (lacking.empty()) continue;
    for (auto& result : results) {
      if (result.rule != r.text) continue;
      result.outcome = "fail";
      result.observed = "'absent'";
      result.message = fmt::format("column {} is missing; broken by new file{} {}", r.args[0],
                                   lacking.size() == 1 ? "" : "s", NameSome(lacking));
    }
  }
  return results;
}

}  // namespace

CrawlReport Crawl(const project::Source& source, const std::string& snapshot, lake::Store& store,
                  meta::Metastore& metastore, engine::Connection& conn, const std::string& trigger,
                  const std::set<std::string>& release) {
  CrawlReport report;
  report.source = source.name;
  const std::string prefix = lake::zones::LandingPrefix(source.name);
  int64_t started = NowMs();
  report.run_id = metastore.StartRun("crawl", source.name, trigger, snapshot);
  meta::Run run;
  run.id = report.run_id;
  run.kind = "crawl";
  run.name = source.name;
  run.trigger = trigger;
  run.started_ms = started;
  run.status = meta::RunStatus::kRunning;

  std::vector<std::pair<std::string, std::string>> moves;  // damaged files: from, to
  try {
    auto existing = metastore.GetTable("bronze", source.name);
    std::set<std::string> known;
    json existing_dialect = json::object();
    if (existing) {
      for (const auto& f : metastore.TableFiles(existing->id, existing->version, true)) {
        known.insert(f.key);
      }
      existing_dialect = json::parse(existing->options, nullptr, false);
      if (existing_dialect.is_discarded()) existing_dialect = json::object();
    }

    std::vector<lake::ObjectInfo> fresh;
    std::vector<std::string> fresh_keys;
    for (auto& obj : lake::ListAll(store, prefix)) {
      if (release.empty() ? known.count(obj.key) > 0 : release.count(obj.key) == 0) continue;
      fresh_keys.push_back(obj.key);
      fresh.push_back(std::move(obj));
    }
    // What DuckDB reads this crawl: the new files, and the views of the tables the checks use.
    lake::Fetched local = store.Fetch(fresh_keys);
    report.new_files = fresh.size();
    run.files_read = static_cast<int64_t>(fresh.size());

    meta::TableChange change;
    change.db = "bronze";
    change.name = source.name;
    change.kind = "source";
    for (const auto& key : release) {
      if (known.count(key)) change.removed.push_back(key);
    }
    std::vector<std::string> change_notes;
    bool schema_changed = false;
    std::vector<meta::Column> columns;
    json dialect;
    std::string table_format;

    std::map<std::string, std::string> formats;
    std::vector<lake::ObjectInfo> readable;
    for (const auto& obj : fresh) {
      formats[obj.key] = source.format == "auto" ? FormatOfKey(obj.key) : source.format;
      if (!formats[obj.key].empty() && !PatternCharacter(obj.key)) readable.push_back(obj);
    }
    JsonLineRepair json_lines(conn, store);
    Utf8Copies utf8(store);
    auto inferred = InferSchemas(conn, local, json_lines, utf8, readable, formats, source);

    // Which new files join the table and what the table becomes, with the files in `kept_out`
    // (key -> reason) quarantined first: run again when the source's checks keep files out, so
    // that their schema changes no longer count.
    auto classify = [&](const std::map<std::string, std::string>& kept_out) {
      change.added.clear();
      moves.clear();
      change_notes.clear();
      schema_changed = false;
      report.quarantined.clear();
      report.held.clear();
      columns = existing ? existing->columns : std::vector<meta::Column>{};
      dialect = existing_dialect;
      table_format = existing ? existing->format : "";
      // The source's reading options as they are now apply to the table's every file.
      if (table_format == "csv") RecordReadingOptions(source, dialect);
      for (const auto& obj : fresh) {
        meta::TableFile file{
            obj.key, obj.size, PartitionOf(obj.key, prefix), -1, meta::FileStatus::kActive, "", ""};
        auto quarantine = [&](const std::string& reason) {
          file.status = meta::FileStatus::kQuarantined;
          file.reason = reason;
          report.quarantined.push_back({obj.key, reason});
          change.added.push_back(file);
        };
        auto hold = [&](const std::string& reason) {
          file.status = meta::FileStatus::kHeld;
          file.reason = reason;
          report.held.push_back({obj.key, reason});
          change.added.push_back(file);
        };
        if (auto out = kept_out.find(obj.key); out != kept_out.end()) {
          hold(out->second);
          continue;
        }
        const std::string& format = formats[obj.key];
        if (char c = PatternCharacter(obj.key)) {
          quarantine(
              fmt::format("the name holds '{}', which DuckDB reads as a file pattern; rename "
                          "the file without *, ? or [",
                          c));
          continue;
        }
        if (format.empty()) {
          quarantine("cannot tell the format from the file name; set `format:` on the source");
          continue;
        }
        if (!table_format.empty() && format != table_format) {
          std::string reason =
              fmt::format("format {} differs from the table's {}", format, table_format);
          if (source.on_schema_change == "fail") {
            FailWithCode(ErrorKind::kInput, "input.schema_drift",
                         "{}: {} (source {} has on_schema_change: fail)", obj.key, reason,
                         source.name);
          }
          quarantine(reason);
          continue;
        }
        const Inferred& got = inferred.at(obj.key);
        if (got.damaged) {
          // Landed files are never replaced, so a damaged file leaves landing: the whole file
          // can then land under its name. The catalog keeps it where it goes.
          file.key = lake::zones::QuarantinedLandedKey(source.name, report.run_id, obj.key);
          moves.emplace_back(obj.key, file.key);
          quarantine(fmt::format("{}; moved to {} so that the whole file can land under its name",
                                 got.error, file.key));
          continue;
        }
        if (!got.error.empty()) {
          quarantine(got.error);
          continue;
        }
        const FileSchema& schema = got.schema;
        if (obj.size == 0 || schema.columns.empty()) {
          quarantine(obj.size == 0 ? "the file is empty" : "the file holds no columns");
          continue;
        }
        json names = json::array();
        for (const auto& c : schema.columns) names.push_back(c.name);
        file.columns = names.dump();
        std::string partition_fault;
        std::vector<meta::Column> partition_columns =
            PartitionColumns(file.partition, partition_fault);
        if (!partition_fault.empty()) {
          quarantine(partition_fault);
          continue;
        }
        // A key=value folder naming a column of the file would hide the file's values.
        std::string clash;
        for (const auto& pc : partition_columns) {
          for (const auto& c : schema.columns) {
            if (ToLower(c.name) == ToLower(pc.name)) clash = pc.name;
          }
        }
        std::string partition_drift;
        if (!clash.empty()) {
          partition_drift = fmt::format("the folder {}=... names a column the file has too", clash);
        } else if (!table_format.empty()) {
          // Every file of a table sits in the same key=value folders, or the table cannot be read.
          std::vector<std::string> have, want;
          for (const auto& c : columns) {
            if (c.partition) want.push_back(c.name);
          }
          for (const auto& pc : partition_columns) have.push_back(pc.name);
          if (have != want) {
            partition_drift = fmt::format("partition folders [{}] differ from the table's [{}]",
                                          Join(have, ", "), Join(want, ", "));
          }
        }
        if (!partition_drift.empty()) {
          if (source.on_schema_change == "fail") {
            FailWithCode(ErrorKind::kInput, "input.schema_drift",
                         "{}: {} (source {} has on_schema_change: fail)", obj.key, partition_drift,
                         source.name);
          }
          quarantine(partition_drift);
          continue;
        }
        if (table_format.empty()) {
          // The first file defines the table.
          table_format = format;
          dialect = schema.dialect;
          columns.clear();
          for (const auto& c : schema.columns) columns.push_back(Storable(c));
          columns.insert(columns.end(), partition_columns.begin(), partition_columns.end());
          schema_changed = true;
          change_notes.push_back(fmt::format("created with {} columns", columns.size()));
          change.added.push_back(file);
          continue;
        }
        for (const auto& pc : partition_columns) {
          auto it = std::find_if(columns.begin(), columns.end(),
                                 [&](const meta::Column& c) { return c.name == pc.name; });
          if (!FitsIn(pc.type, it->type)) {
            it->type = WidenType(pc.type, it->type);
            schema_changed = true;
          }
        }
        Drift drift = Compare(columns, schema, dialect);
        if (!drift.any()) {
          change.added.push_back(file);
          continue;
        }
        bool absorbable = drift.unabsorbable.empty();
        if (source.on_schema_change == "fail") {
          auto table = existing
                           ? fmt::format("bronze.{} (version {})", source.name, existing->version)
                           : fmt::format("bronze.{}", source.name);
          FailWithCode(
              ErrorKind::kInput, "input.schema_drift",
              "{}: schema drift against {}: {}\n  hint: source {} has on_schema_change: fail; "
              "set it to evolve to widen the table, or quarantine to keep such files out",
              obj.key, table, drift.str(), source.name);
        }
        if (!absorbable) {
          quarantine("schema drift: " + drift.str());
          continue;
        }
        if (source.on_schema_change == "quarantine") {
          hold("schema drift: " + drift.str());
          continue;
        }
        // evolve: widen and add; a missing column reads as NULL.
        if (!drift.added.empty() || !drift.widened.empty()) {
          Drift widening = drift;
          widening.missing.clear();
          Apply(widening, columns);
          schema_changed = true;
          change_notes.push_back(fmt::format("{}: {}", obj.key, widening.str()));
        }
        change.added.push_back(file);
      }
      change.format = table_format;
      change.options = dialect.dump();
      change.columns = columns;
    };
    std::map<std::string, std::string> kept_out;
    classify(kept_out);
    if (!source.checks.empty() && !fresh.empty()) {
      project::Diagnostics diagnostics;
      auto rules = quality::ParseCheckSpecs(source.checks, diagnostics);
      diagnostics.ThrowIfAny();
      AttachTables(conn, metastore, store, local);
      // The checks read whole files, past the sample: a bad JSON line there is read around (the
      // job quarantines it), a file that cannot be is kept out whole. Each fault removes a line
      // or a file, so this ends.
      auto reading_around = [&](auto scan) {
        for (;;) {
          try {
            return scan();
          } catch (const Error& e) {
            auto absorbed = json_lines.Absorb(e.what(), local);
            if (absorbed.outcome == JsonLineRepair::Outcome::kNotALine) throw;
            if (absorbed.outcome == JsonLineRepair::Outcome::kWholeFile) {
              kept_out[absorbed.whole.key] =
                  "cannot read the file as json: " + absorbed.whole.reason;
              classify(kept_out);
            }
          }
        }
      };
      auto breaking = [&] { return FilesBreaking(rules, change, local, conn); };
      // Every round keeps at least one more file out, so this ends.
      for (auto more = reading_around(breaking); !more.empty(); more = reading_around(breaking)) {
        kept_out.insert(more.begin(), more.end());
        classify(kept_out);
      }
      report.checks = reading_around(
          [&] { return JudgeNewFiles(rules, change, report, local, metastore, conn); });
      quality::RequirePassing(report.checks, "source " + source.name);
    }
    report.registered = change.added.size() - report.quarantined.size() - report.held.size();
    if (change.added.empty()) {
      run.status = meta::RunStatus::kSucceeded;
      run.details = json{{"message", "no new files"}}.dump();
      if (existing) report.version = existing->version;
      metastore.FinishRun(run, {}, {});
      return report;
    }
    if (schema_changed) report.schema_change = Join(change_notes, "; ");
    change.change = fmt::format(
        "crawl: {} new file{}{}{}{}", report.registered, report.registered == 1 ? "" : "s",
        report.quarantined.empty() ? ""
                                   : fmt::format(", {} quarantined", report.quarantined.size()),
        report.held.empty() ? "" : fmt::format(", {} held", report.held.size()),
        schema_changed ? "; schema: " + report.schema_change : "");
    run.status = meta::RunStatus::kSucceeded;
    run.ended_ms = NowMs();
    json details = {{"registered", report.registered},
                    {"quarantined_files", json::array()},
                    {"held_files", json::array()},
                    {"schema_change", report.schema_change}};
    for (const auto& [key, reason] : report.quarantined) {
      details["quarantined_files"].push_back({{"file", key}, {"reason", reason}});
    }
    for (const auto& [key, reason] : report.held) {
      details["held_files"].push_back({{"file", key}, {"reason", reason}});
    }
    run.details = details.dump();
    meta::RunCommit commit;
    commit.run = run;
    commit.tables.push_back(change);
    commit.checks = report.checks;
    metastore.CommitRun(commit);
    report.version = existing ? existing->version + 1 : 1;
    report.changed = true;
    // Tag sensitive columns from a sample of the new version (a failure here loses no data).
    if (auto published = metastore.GetTable("bronze", source.name)) {
      try {
        std::vector<quality::CustomEntity> custom;
        for (const auto& e : source.pii_entities) custom.push_back({e.name, e.regex, e.context});
        TagPii(conn, metastore, store, *published, custom);
      } catch (const std::exception&) {
      }
    }
  } catch (const std::exception& e) {
    metastore.StopRun(run, e, Redact(e.what()), {}, report.checks);
    throw;
  }
  // After the commit, which already records the damaged files where they go: if moving one
  // fails, it is still in landing and unknown to the catalog, so the next crawl moves it.
  for (const auto& [from, to] : moves) {
    store.Move(from, to);
  }
  return report;
}

}  // namespace sluice::catalog
