#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/csv_text.h"
#include "catalog/integrity.h"
#include "catalog/json_lines.h"
#include "catalog/pii_tags.h"
#include "common/error.h"
#include "common/one_line.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "common/time.h"
#include "engine/capture.h"
#include "project/reader.h"
#include "quality/check_specs.h"
#include "transform/checks.h"
#include "transform/output.h"
#include "transform/run.h"
#include "transform/set_aside.h"

namespace sluice::transform {

using nlohmann::json;

namespace {

// Counts the rows read, before any step (engine::RowCounter).
constexpr const char* kRead = "sluice_read";

// The key of `mask: tokenize`, from SLUICE_TOKEN_KEY (a secret: never printed or stored).
std::string TokenKey() {
  const char* key = std::getenv("SLUICE_TOKEN_KEY");
  if (!key || !*key) {
    FailWithCode(
        ErrorKind::kConfig, "config.token_key",
        "mask: tokenize needs a key: export SLUICE_TOKEN_KEY=... (keep it secret; the same key "
        "gives the same tokens in every table)");
  }
  RegisterSecret(key);
  return key;
}

bool UsesTokens(const project::Job& job) {
  for (const auto& step : job.steps) {
    for (const auto& [col, spec] : step.masks) {
      if (spec.method == "tokenize") return true;
    }
  }
  return false;
}

// A YAML value as an SQL literal: numbers and booleans as they are, the rest as text.
std::string Literal(const std::string& value) {
  static const std::set<std::string> words = {"true", "false", "null"};
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  if (!value.empty() && end && *end == '\0') return value;
  if (words.count(ToLower(value))) return value;
  return SqlString(value);
}

const ColumnInfo* Find(const std::vector<ColumnInfo>& columns, const std::string& name) {
  for (const auto& c : columns) {
    if (ToLower(c.name) == ToLower(name)) return &c;
  }
  return nullptr;
}

// The type as DuckDB spells it, to tell a cast that changes nothing.
std::string NormalType(std::string type) {
  type = ToLower(Trim(type));
  ReplaceAll(type, " ", "");
  static const std::map<std::string, std::string> aliases = {
      {"int", "integer"},  {"int4", "integer"},  {"int8", "bigint"},
      {"long", "bigint"},  {"float8", "double"}, {"string", "varchar"},
      {"text", "varchar"}, {"bool", "boolean"},  {"datetime", "timestamp"}};
  auto it = aliases.find(type);
  return it == aliases.end() ? type : it->second;
}

// One step as one or more CTEs appended to `ctes`; returns the name of the last.
std::string StepSql(const project::Step& step, const std::string& name, const std::string& prev,
                    const std::vector<ColumnInfo>& columns, const PendingMasks& pending,
                    std::string& ctes) {
  auto add = [&](const std::string& cte, const std::string& sql) {
    ctes += fmt::format(", {} AS ({})", cte, sql);
    return cte;
  };
  if (step.kind == "select") {
    std::vector<std::string> cols;
    for (const auto& c : step.columns) cols.push_back(SqlIdent(c));
    return add(name, fmt::format("SELECT {}, _sluice_file FROM {}", Join(cols, ", "), prev));
  }
  if (step.kind == "rename") {
    std::vector<std::string> items;
    for (const auto& [from, to] : step.pairs) {
      if (!Find(columns, from)) {
        FailWithCode(ErrorKind::kConfig, "config.step_mismatch",
                     "{}: rename: no column '{}' to rename", step.where.str(), from);
      }
      bool renamed_away = std::any_of(step.pairs.begin(), step.pairs.end(), [&](const auto& p) {
        return ToLower(p.first) == ToLower(to);
      });
      if (ToLower(from) != ToLower(to) && Find(columns, to) && !renamed_away) {
        // Two columns of one name: the writer would keep both as `to` and `to_1`.
        FailWithCode(ErrorKind::kConfig, "config.step_mismatch",
                     "{}: rename: '{}' cannot become '{}': the input has a column '{}' already",
                     step.where.str(), from, to, to);
      }
      items.push_back(SqlIdent(from) + " AS " + SqlIdent(to));
    }
    return add(name, fmt::format("SELECT * RENAME ({}) FROM {}", Join(items, ", "), prev));
  }
  if (step.kind == "cast") {
    // Each value is cast once, into a scratch column; a row is quarantined where a value that
    // was there did not survive. Casts to the type a column already has are left out.
    std::vector<std::string> tries, scratch, replace, fails, reasons;
    for (const auto& [col, type] : step.pairs) {
      const ColumnInfo* have = Find(columns, col);
      if (have && NormalType(have->type) == NormalType(type)) continue;
      std::string c = SqlIdent(col), t = SqlIdent(fmt::format("_sluice_cast_{}", tries.size()));
      tries.push_back(fmt::format("TRY_CAST({} AS {}) AS {}", c, type, t));
      scratch.push_back(t);
      replace.push_back(fmt::format("{} AS {}", t, c));
      std::string fail = fmt::format("({} IS NOT NULL AND {} IS NULL)", c, t);
      fails.push_back(fail);
      reasons.push_back(fmt::format(
          "WHEN {} THEN 'cast: ' || {} || ' value ''' || {} || ''' is not a valid ' || {}", fail,
          SqlString(col), pending.Shown(col, c), SqlString(type)));
    }
    if (tries.empty()) return prev;
    std::string tried =
        add(name + "_try", fmt::format("SELECT *, {} FROM {}", Join(tries, ", "), prev));
    return add(name, fmt::format("SELECT * EXCLUDE ({}) REPLACE ({}) FROM {} WHERE {}",
                                 Join(scratch, ", "), Join(replace, ", "), tried,
                                 KeepOrSetAside("NOT (" + Join(fails, " OR ") + ")",
                                                "CASE " + Join(reasons, " ") + " END",
                                                RowJson(columns, pending))));
  }
  if (step.kind == "filter") {
    return add(name, fmt::format("SELECT * FROM {} WHERE {}", prev,
                                 KeepOrSetAside("coalesce((" + step.text + "\n), false)",
                                                "'drop:filter'", "NULL")));
  }
  if (step.kind == "derive") {
    std::vector<std::string> replace, added;
    for (const auto& [col, expr] : step.pairs) {
      (Find(columns, col) ? replace : added)
          .push_back(fmt::format("({}\n) AS {}", expr, SqlIdent(col)));
    }
    std::string star = replace.empty() ? "*" : "* REPLACE (" + Join(replace, ", ") + ")";
    return add(name, fmt::format("SELECT {}{} FROM {}", star,
                                 added.empty() ? "" : ", " + Join(added, ", "), prev));
  }
  if (step.kind == "fill_null") {
    std::vector<std::string> replace;
    for (const auto& [col, value] : step.pairs) {
      // Text columns get text ("00000" stays a string); others take the value as SQL reads it.
      const ColumnInfo* have = Find(columns, col);
      bool text = have && NormalType(have->type) == "varchar";
      replace.push_back(fmt::format("coalesce({}, {}) AS {}", SqlIdent(col),
                                    text ? SqlString(value) : Literal(value), SqlIdent(col)));
    }
    return add(name, fmt::format("SELECT * REPLACE ({}) FROM {}", Join(replace, ", "), prev));
  }
  if (step.kind == "dedupe") {
    std::vector<std::string> order;
    const char* dir = step.keep == "last" ? "DESC" : "ASC";
    for (const auto& o : step.order_by) {
      order.push_back(fmt::format("{} {} NULLS LAST", SqlIdent(o), dir));
    }
    // Arrival order decides where order_by does not (files land, and are read, in name order).
    order.push_back(fmt::format("_sluice_file {} NULLS LAST", dir));
    // A row with a NULL key duplicates nothing (NULL matches no other value).
    std::string first =
        fmt::format("{} OR row_number() OVER (PARTITION BY {} ORDER BY {}) = 1",
                    SqlAnyNull(step.key), SqlIdentList(step.key), Join(order, ", "));
    return add(name, fmt::format("SELECT * FROM {} QUALIFY {}", prev,
                                 KeepOrSetAside(first, "'drop:dedupe'", "NULL")));
  }
  if (step.kind == "mask") {
    std::vector<std::string> replace;
    for (const auto& [col, spec] : step.masks) {
      bool present = std::any_of(columns.begin(), columns.end(), [&](const ColumnInfo& c) {
        return ToLower(c.name) == ToLower(col);
      });
      if (step.optional_columns && !present) continue;  // pii: auto, a column not in the input
      replace.push_back(fmt::format("{} AS {}", MaskSql(SqlIdent(col), spec), SqlIdent(col)));
    }
    if (replace.empty()) return prev;  // nothing left to mask
    return add(name, fmt::format("SELECT * REPLACE ({}) FROM {}", Join(replace, ", "), prev));
  }
  // sql: the user's SELECT over `input`, the rows still in play. Its rows come from no one file.
  return add(name, fmt::format("SELECT *, CAST(NULL AS INTEGER) AS _sluice_file FROM (WITH input "
                               "AS (SELECT * EXCLUDE (_sluice_file) FROM {}) SELECT * FROM ({}\n))",
                               prev, step.text));
}

// For each step, the masks of the steps after it, by the names columns have where it runs: a
// rename further on is followed back (all pairs of a step at once, as they apply); an `sql` step,
// or a `derive` of a column masked later, hides where values come from, so rows set aside
// before it show nothing.
std::vector<PendingMasks> MasksAhead(const project::Job& job) {
  std::vector<PendingMasks> ahead(job.steps.size() + 1);
  for (size_t i = job.steps.size(); i-- > 0;) {
    const PendingMasks& after = ahead[i + 1];
    PendingMasks& here = ahead[i];
    here.withhold = after.withhold;
    const auto& step = job.steps[i];
    std::map<std::string, std::string> renamed_from;  // new name -> old name
    std::set<std::string> renamed_away;
    if (step.kind == "rename") {
      for (const auto& [from, to] : step.pairs) {
        renamed_from[ToLower(to)] = ToLower(from);
        renamed_away.insert(ToLower(from));
      }
    }
    for (const auto& [name, spec] : after.columns) {
      if (auto it = renamed_from.find(name); it != renamed_from.end()) {
        here.columns[it->second] = spec;
      } else if (!renamed_away.count(name)) {
        here.columns[name] = spec;
      }
    }
    if (step.kind == "sql" && !after.columns.empty()) here.withhold = true;
    for (const auto& [col, expr] : step.pairs) {
      if (step.kind == "derive" && after.columns.count(ToLower(col))) here.withhold = true;
    }
    for (const auto& [col, spec] : step.masks) here.columns[ToLower(col)] = spec;
  }
  return ahead;
}

// `pii: auto`: a first mask step for every column of the input the catalog tags as sensitive
// that no mask step of the job covers, with the project's default action.
void AddPiiMasks(project::Job& job, meta::CatalogStore& metastore, const meta::Table& input,
                 const std::string& method) {
  std::set<std::string> masked;
  for (const auto& step : job.steps) {
    for (const auto& [col, spec] : step.masks) masked.insert(ToLower(col));
  }
  project::Step step;
  step.kind = "mask";
  step.optional_columns = true;
  step.where = job.where;
  for (const auto& [column, tags] : metastore.ColumnTags(input.id)) {
    // Columns masked already upstream carry "masked" in their tags: not masked twice.
    if (masked.count(ToLower(column)) || catalog::PiiEntities(tags).empty() ||
        !catalog::MaskedBy(tags).empty()) {
      continue;
    }
    step.masks.push_back({column, project::MaskSpec{method}});
  }
  // First, before any step can rename, copy or filter on the raw values.
  if (!step.masks.empty()) job.steps.insert(job.steps.begin(), std::move(step));
}

// Records on the output table what is sensitive in each column: a column the job masks, how
// (with what the input's tags said of it); any other column, what the input's tags say of the
// column of that name (sensitive values passed on, or masked upstream), or nothing. So a column
// that stops being masked no longer reads as masked.
void RecordMasks(const project::Job& job, meta::CatalogStore& metastore, const meta::Table& input) {
  auto output = metastore.GetTable(job.output.table.db, job.output.table.name);
  if (!output) return;
  auto input_tags = metastore.ColumnTags(input.id);
  std::map<std::string, project::MaskSpec> masks;
  for (const auto& step : job.steps) {
    for (const auto& [col, spec] : step.masks) masks[ToLower(col)] = spec;
  }
  std::map<std::string, std::string> tags;
  for (const auto& column : output->columns) {
    auto in = input_tags.find(column.name);
    std::string upstream = in == input_tags.end() ? "[]" : in->second;
    auto mask = masks.find(ToLower(column.name));
    if (mask == masks.end()) {
      tags[column.name] = upstream;
      continue;
    }
    json entry = json::array();
    auto entities = catalog::PiiEntities(upstream);
    if (entities.empty()) entities.push_back("");
    for (const auto& e : entities)
      entry.push_back({{"entity", e}, {"masked", mask->second.method}});
    tags[column.name] = entry.dump();
  }
  metastore.SetColumnTags(output->id, tags);
}

// A file kept out of the run whole, as one quarantine record: one the JSON reader could not
// parse, or one that holds data but yielded no row.
struct BadFile {
  std::string key;
  std::optional<int64_t> line;
  std::string reason, raw;
};

// Every file of the scan must account for itself: rows read, or lines the reader rejected. A
// file with neither that still holds data lost its rows somewhere between the crawler and the
// reader (a header the reader parses differently, a quote left open): it is kept out with the
// reason, never passed over silently. `counted` is rows per `_sluice_file`, `rejected` the keys
// of files with rejected lines.
std::vector<BadFile> FilesWithoutRows(engine::Connection& conn, const meta::Table& input,
                                      const std::vector<meta::TableFile>& files,
                                      const std::map<std::optional<int32_t>, int64_t>& counted,
                                      const std::set<std::string>& rejected,
                                      const lake::Fetched& local) {
  std::vector<BadFile> out;
  for (size_t i = 0; i < files.size(); ++i) {
    auto it = counted.find(static_cast<int32_t>(i + 1));
    if ((it != counted.end() && it->second > 0) || rejected.count(files[i].key)) continue;
    if (!catalog::HoldsData(conn, input, files[i].key, local)) continue;  // empty, or a header
    out.push_back({files[i].key, std::nullopt,
                   "no rows read: the file holds data but the reader yielded no row (look at its "
                   "header line and quotes); the whole file is kept out",
                   ""});
  }
  return out;
}

// For a step that does not fit its input: a "\n  note: ..." line per file read (at most five)
// whose own header lacks columns of the input table, then a hint, or "" when every file has them
// all (or its header is unknown). A wrongly landed file shows up here first.
std::string FilesLackingColumns(const meta::Table& input,
                                const std::vector<meta::TableFile>& files) {
  constexpr size_t kNamed = 5;
  std::string notes;
  size_t named = 0, more = 0;
  for (const auto& f : files) {
    auto names = catalog::OwnColumns(f.columns);
    if (!names) continue;
    std::set<std::string> has;
    for (const auto& n : *names) has.insert(ToLower(n));
    std::vector<std::string> lacking;
    for (const auto& c : input.columns) {
      if (!c.partition && !has.count(ToLower(c.name))) lacking.push_back(c.name);
    }
    if (lacking.empty()) continue;
    if (named == kNamed) {
      ++more;
      continue;
    }
    ++named;
    notes += fmt::format("\n  note: {} has no column {} of {} (its header: {})", f.key,
                         Join(lacking, ", "), input.full_name(), Join(*names, ", "));
  }
  if (notes.empty()) return "";
  if (more)
    notes += fmt::format("\n  note: and {} more file{} like it", more, more == 1 ? "" : "s");
  return notes +
         "\n  hint: a file landed by mistake is taken out with `sluice landing remove KEY "
         "--reason TEXT`";
}

// Refuses a backfill the job cannot do exactly: before the run is recorded, as a usage error.
void CheckBackfill(meta::Metastore& metastore, const project::Job& job, const PartitionRange& range,
                   const RunOptions& options) {
  const auto& out = job.output;
  auto in = [](const std::vector<std::string>& names, const std::string& name) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return ToLower(n) == name; });
  };
  if (options.full_refresh) {
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "sluice run: --full-refresh rebuilds the whole table and --partitions a range of "
                 "it; pass one of them");
  }
  for (const auto& column : RangeColumns(range)) {
    if (!in(out.partition_by, column)) {
      FailWithCode(ErrorKind::kUsage, "usage.partitions",
                   "--partitions names {}, and job {} writes {} partitioned by [{}]\n  hint: a "
                   "backfill replaces whole output partitions: name only columns of the "
                   "output's partition_by",
                   column, job.name, out.table.str(), Join(out.partition_by, ", "));
    }
  }
  if (out.mode == "merge") {
    for (const auto& p : out.partition_by) {
      if (!in(out.key, ToLower(p))) {
        FailWithCode(ErrorKind::kUsage, "usage.partitions",
                     "--partitions: job {} merges {} on [{}], which does not hold its partition "
                     "column {}: a key's rows could sit in partitions outside the range\n  hint: "
                     "run it with --full-refresh instead",
                     job.name, out.table.str(), Join(out.key, ", "), p);
      }
    }
  }
  if (auto table = metastore.GetTable(out.table.db, out.table.name)) {
    // Values the table's partition columns cannot hold (the run checks again against its own
    // output, whose types a fixed job may have changed).
    ColumnTypes types;
    for (const auto& c : table->columns) {
      if (c.partition) types[ToLower(c.name)] = c.type;
    }
    auto named = RangeColumns(range);
    if (std::all_of(named.begin(), named.end(), [&](const auto& c) { return types.count(c); })) {
      engine::Database db;
      engine::Connection conn(db);
      CheckRangeValues(conn, range, types);
    }
  }
  if (!job.incremental) return;
  auto input = metastore.GetTable(job.input.db, job.input.name);
  if (!input) return;  // the run fails as any run of this job would
  auto done = metastore.Bookmarks(job.name);
  size_t waiting = 0;
  for (const auto& f : metastore.TableFiles(input->id, input->version)) {
    if (!done.count(f.key)) ++waiting;
  }
  if (waiting > 0) {
    FailWithCode(ErrorKind::kUsage, "usage.partitions",
                 "--partitions: {} file{} of {} {} not processed by job {} yet; a backfill "
                 "replaces partitions from the files the job has processed\n  hint: run `sluice "
                 "run {}` first, then the backfill",
                 waiting, waiting == 1 ? "" : "s", job.input.str(), waiting == 1 ? "is" : "are",
                 job.name, job.name);
  }
}

// DuckDB says only that a line is not UTF-8: the temp table _sluice_utf8 (key, line, byte) says
// where in the line, for the lines `key_of_path` (a SQL expression over reject_scans s) names
// in the reject tables, of the plain files of a UTF-8 table. At most kLocated lines per file.
void LocateInvalidUtf8Lines(engine::Connection& conn, const meta::Table& input,
                            const lake::Fetched& local, const std::string& key_of_path) {
  constexpr int64_t kLocated = 1000;
  json dialect = json::parse(input.options.empty() ? "{}" : input.options, nullptr, false);
  auto rejects = conn.Query(fmt::format(
      "SELECT key, line FROM (SELECT DISTINCT {} AS key, e.line FROM reject_errors e JOIN "
      "reject_scans s USING (scan_id, file_id) WHERE starts_with(e.error_message, 'Invalid "
      "unicode')) QUALIFY row_number() OVER (PARTITION BY key ORDER BY line) <= {} ORDER BY ALL",
      key_of_path, kLocated));
  std::map<std::string, std::set<int64_t>> lines;  // by key
  for (size_t i = 0; i < rejects.row_count(); ++i) {
    lines[rejects.GetOr(0, i)].insert(rejects.GetInt(1, i));
  }
  std::vector<std::string> rows;
  for (const auto& [key, numbers] : lines) {
    if (catalog::EncodingOf(dialect) != project::CsvEncoding::kUtf8 ||
        catalog::CompressionOf(key) != catalog::Compression::kNone) {
      continue;
    }
    std::ifstream in(local.Path(key), std::ios::binary);
    for (auto [line, byte] :
         catalog::LocateInvalidUtf8(in, numbers, catalog::MaxLineSizeOf(dialect))) {
      rows.push_back(fmt::format("({}, {}, {})", SqlString(key), line, byte));
    }
  }
  conn.Execute(
      "CREATE OR REPLACE TEMP TABLE _sluice_utf8 (key VARCHAR, line BIGINT, byte BIGINT)" +
      (rows.empty() ? std::string() : "; INSERT INTO _sluice_utf8 VALUES " + Join(rows, ", ")));
}

// The DuckDB COPY options of a script's file format.
std::string CopyOptions(const std::string& format) {
  if (format == "jsonl") return "FORMAT json";
  if (format == "csv") return "FORMAT csv, HEADER true";
  return "FORMAT parquet, COMPRESSION zstd";
}

// Writes the rows of `steps_sql` (the job's steps over its new files) into `dir` as one file of
// the script's format, without Sluice's own columns.
void WriteScriptInput(engine::Connection& conn, const project::Script& script,
                      const std::string& steps_sql, const fs::path& dir) {
  fs::create_directories(dir);
  conn.Execute(fmt::format(
      "COPY (SELECT COLUMNS(c -> NOT starts_with(c, '_sluice_')) FROM ({})) TO {} ({})", steps_sql,
      SqlString((dir / ("part-0." + script.format)).string()), CopyOptions(script.format)));
}

// Runs the job's program with SLUICE_INPUT_DIR (the rows its steps left, as files) and
// SLUICE_OUTPUT_DIR (an empty folder for the files it writes). Throws command.failed (kIo) when
// it exits with another status than 0, is killed or runs past its timeout, with its last line
// on stderr; command.not_found (kConfig) when it cannot be started.
void RunScript(const project::Job& job, const project::Script& script, const fs::path& root,
               const fs::path& dir, int64_t run_id) {
  project::RequireSet(script.program.unset_env);
  fs::create_directories(dir / "output");
  Program program;
  program.argv = script.program.command;
  program.cwd = project::ProgramFolder(root, script.program, script.where);
  program.env = script.program.env;
  program.env.emplace_back("SLUICE_INPUT_DIR", (dir / "input").string());
  program.env.emplace_back("SLUICE_OUTPUT_DIR", (dir / "output").string());
  program.env.emplace_back("SLUICE_FORMAT", script.format);
  program.env.emplace_back("SLUICE_JOB", job.name);
  program.env.emplace_back("SLUICE_RUN_ID", std::to_string(run_id));
  program.timeout_ms = script.timeout_ms;
  program.grace_ms = 5000;
  std::string partial, last_error;
  program.on_output = [&](bool is_stderr, std::string_view data) {
    if (!is_stderr) return;
    for (char c : data) {
      if (c != '\n') {
        if (partial.size() < 4096) partial += c;
      } else if (!partial.empty()) {
        last_error = std::move(partial);
        partial.clear();
      }
    }
  };
  ProgramResult result;
  try {
    result = RunProgram(program);
  } catch (const Error& e) {
    throw Error(e.kind(), e.code(), fmt::format("{}: {}", script.where.str(), e.what()));
  }
  if (!partial.empty()) last_error = partial;
  if (result.end == ProgramEnd::kStopped) Fail(ErrorKind::kInterrupted, "job interrupted");
  if (result.ok()) return;
  // The program's last words explain an exit, not a timeout.
  std::string said = last_error.empty() || result.end == ProgramEnd::kTimedOut
                         ? ""
                         : ": " + Redact(OneLine(last_error));
  const std::string name = fs::path(program.argv.at(0)).filename().string();
  FailWithCode(
      ErrorKind::kIo, "command.failed", "{}: the script of job {} ({}) {}{}", script.where.str(),
      job.name, name,
      result.end == ProgramEnd::kTimedOut
          ? fmt::format("ran past its timeout ({} s) and was stopped", script.timeout_ms / 1000)
      : result.end == ProgramEnd::kSignaled ? fmt::format("was killed by signal {}", result.code)
                                            : fmt::format("exited with status {}", result.code),
      said);
}

// The rows the program wrote in `dir`, judged by the job's checks (as CompileJob ends).
std::string ScriptOutputSql(engine::Connection& conn, const project::Job& job,
                            const project::Script& script, const std::vector<quality::Rule>& rules,
                            const fs::path& dir) {
  const std::string glob = SqlString((dir / ("*." + script.format)).string());
  std::error_code ec;
  bool any = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != "." + script.format) continue;
    // Its own files only: a link could make any file the output.
    if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) {
      FailWithCode(ErrorKind::kInput, "command.no_output",
                   "{}: the script of job {} left {} in SLUICE_OUTPUT_DIR, which is no regular "
                   "file (a link, a folder, a pipe): write the output files themselves",
                   script.where.str(), job.name, entry.path().filename().string());
    }
    any = true;
  }
  if (!any) {
    FailWithCode(ErrorKind::kInput, "command.no_output",
                 "{}: the script of job {} wrote no .{} file in SLUICE_OUTPUT_DIR; to publish no "
                 "rows, write a file with the columns and no row",
                 script.where.str(), job.name, script.format);
  }
  std::string reader = script.format == "jsonl"
                           ? fmt::format("read_json_auto({}, format = 'newline_delimited')", glob)
                       : script.format == "csv" ? fmt::format("read_csv({}, header = true)", glob)
                                                : fmt::format("read_parquet({})", glob);
  std::string ctes = fmt::format(
      "WITH script_out AS (SELECT *, CAST(NULL AS INTEGER) AS _sluice_file FROM {})", reader);
  std::vector<ColumnInfo> columns;
  try {
    columns = DataColumns(conn, ctes, "script_out");
  } catch (const Error& e) {
    FailWithCode(ErrorKind::kInput, "command.no_output",
                 "{}: the files the script of job {} wrote cannot be read as {}: {}",
                 script.where.str(), job.name, script.format, engine::WithoutQuote(e.what()));
  }
  auto described = conn.Query(fmt::format("DESCRIBE SELECT * FROM {}", reader));
  for (size_t i = 0; i < described.row_count(); ++i) {
    const std::string name = described.GetOr(0, i);
    if (StartsWith(ToLower(name), "_sluice_")) {
      FailWithCode(ErrorKind::kInput, "command.no_output",
                   "{}: the script of job {} wrote a column `{}`: names starting with _sluice_ "
                   "are Sluice's own; rename it",
                   script.where.str(), job.name, name);
    }
  }
  std::string checks = ChecksSql(rules, "script_out", columns);
  if (checks.empty()) return ctes + " SELECT * EXCLUDE (_sluice_file) FROM script_out";
  return ctes + ", checked AS (" + checks + ") SELECT * EXCLUDE (_sluice_file) FROM checked";
}

}  // namespace

std::string CompileJob(engine::Connection& conn, const project::Job& job,
                       const std::vector<quality::Rule>& rules, const std::string& input,
                       const PartitionRange* range) {
  std::string ctes =
      fmt::format("WITH s0 AS (SELECT * FROM {} WHERE {}(_sluice_file))", input, kRead);
  std::string prev = "s0";
  auto columns = DataColumns(conn, ctes, prev);
  auto pending = MasksAhead(job);
  for (size_t i = 0; i < job.steps.size(); ++i) {
    const auto& step = job.steps[i];
    std::string candidate = ctes;
    std::string last =
        StepSql(step, fmt::format("s{}", i + 1), prev, columns, pending[i], candidate);
    try {
      columns = DataColumns(conn, candidate, last);
    } catch (const Error& e) {
      FailWithCode(ErrorKind::kConfig, "config.step_mismatch",
                   "{}: step {} ({}) of job {} does not fit its input: {}", step.where.str(), i + 1,
                   step.kind, job.name, e.what());
    }
    ctes = candidate;
    prev = last;
  }
  if (range) {
    // A backfill: rows outside the range leave before the checks, which judge the range alone.
    ColumnTypes types;
    for (const auto& c : columns) types[ToLower(c.name)] = c.type;
    CheckRangeValues(conn, *range, types);
    ctes += fmt::format(", in_range AS (SELECT * FROM {} WHERE {})", prev,
                        KeepOrSetAside(fmt::format("coalesce({}, false)", RangeSql(*range, types)),
                                       "'drop:range'", "NULL"));
    prev = "in_range";
  }
  std::string checks = ChecksSql(rules, prev, columns);
  if (!checks.empty()) {
    std::string candidate = ctes + ", checked AS (" + checks + ")";
    try {
      columns = DataColumns(conn, candidate, "checked");
    } catch (const Error& e) {
      // Quarantining checks come from the job's checks or its merge destination's key.
      const auto& where =
          job.checks.empty() ? job.output.destination->where : job.checks.front().where;
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "{}: the checks of job {} (or the key of its destination) do not fit its "
                   "output: {}",
                   where.str(), job.name, e.what());
    }
    ctes = candidate;
    prev = "checked";
  }
  return fmt::format("{} SELECT * FROM {}", ctes, prev);
}

namespace {

// A run that loses the race to publish (publish.conflict) starts over, up to this many attempts
// in all, before it fails with the conflict.
constexpr int kConflictAttempts = 5;

// Full jitter over 20, 40, 80, 160 ms: runs that collided spread out rather than collide again.
int64_t ConflictBackoffMs(int attempt) {
  thread_local std::mt19937_64 random(std::random_device{}());
  return std::uniform_int_distribution<int64_t>(0, int64_t{20} << (attempt - 1))(random);
}

}  // namespace

RunReport RunJob(Workspace& ws, const project::Job& declared, const RunOptions& options) {
  project::Job job = declared;  // with `pii: auto` masks added below
  RunReport report;
  report.kind = "job";
  report.name = job.name;
  report.output = job.output.table.str();
  int64_t started = NowMs();
  auto& metastore = *ws.metastore;
  const PartitionRange* range = options.partitions ? &*options.partitions : nullptr;
  if (range) CheckBackfill(metastore, job, *range, options);
  report.run_id = metastore.StartRun("job", job.name, options.trigger, RecordSnapshot(ws));
  if (options.on_start) options.on_start(report.run_id);
  meta::Run run{report.run_id,   "job",  job.name, meta::RunStatus::kRunning,
                options.trigger, started};
  std::vector<meta::RunStep> steps;
  auto step_done = [&](const std::string& name, int64_t since, int64_t rows) {
    steps.push_back(
        {run.id, static_cast<int>(steps.size()), name, "succeeded", since, NowMs(), rows, ""});
  };
  // The attempt as it starts: a lost race (publish.conflict: another run published the output,
  // or took these files' bookmarks, after this one read them) starts again from here.
  const RunReport fresh_report = report;
  const meta::Run fresh_run = run;
  int64_t attempt_base = -1;  // the output's version the attempt read (-1: not read yet)
  try {
    for (int attempt = 1;; ++attempt) {
      auto run_attempt = [&]() -> RunReport {
        project::Diagnostics diagnostics;
        auto rules = quality::ParseCheckSpecs(job.checks, diagnostics);
        diagnostics.ThrowIfAny();
        AddDestinationKeyChecks(ws.project, job.output.table, rules);
        auto input = metastore.GetTable(job.input.db, job.input.name);
        if (input && job.pii_auto) AddPiiMasks(job, metastore, *input, ws.project.pii.mask);
        if (!input) {
          FailWithCode(
              ErrorKind::kInput, "input.not_in_catalog",
              "{}: input table {} is not in the catalog yet\n  hint: {}", job.input_where.str(),
              job.input.str(),
              job.input.db == "bronze"
                  ? fmt::format(
                        "land files with `sluice ingest {} FILE...` and run `sluice crawl {}`",
                        job.input.name, job.input.name)
                  : fmt::format("run the job or model that writes {} first", job.input.str()));
        }
        // The output's version as this run sees it, read before the bookmarks: a run that published
        // after this read moves the version, so the commit names the race (publish.conflict). A
        // merge rewrites the output from this version's rows.
        const int64_t base_version = CurrentVersion(metastore, job.output.table);
        attempt_base = base_version;
        std::vector<meta::TableFile> files;
        std::vector<std::string> keys;
        {
          std::set<std::string> done;
          if (job.incremental && !options.full_refresh && !range)
            done = metastore.Bookmarks(job.name);
          for (auto& f : metastore.TableFiles(input->id, input->version, false)) {
            if (done.count(f.key)) continue;
            keys.push_back(f.key);
            files.push_back(std::move(f));
          }
        }
        report.files_read = run.files_read = static_cast<int64_t>(keys.size());
        if (keys.empty()) {
          report.status = run.status = meta::RunStatus::kSucceeded;
          report.message = job.incremental && !options.full_refresh && !range
                               ? "no new files since the last run; nothing changed"
                               : "the input has no files; nothing changed";
          run.details = json{{"message", report.message}}.dump();
          run.ended_ms = NowMs();
          metastore.FinishRun(run, steps, {});
          report.duration_ms = run.ended_ms - started;
          return report;
        }

        engine::Database db;
        engine::Connection conn(db);
        // A job's output has no row order to keep; DuckDB's sinks run freer without it. Steps set
        // rows aside where they happen, so their conditions must run in step order: DuckDB may not
        // merge or move them across steps.
        conn.Execute(
            "SET preserve_insertion_order = false; "
            "SET disabled_optimizers = 'filter_pushdown,filter_pullup';");
        lake::Fetched local;
        catalog::FetchForReading(*ws.store, *input, keys, local);
        catalog::AttachTables(conn, metastore, *ws.store, local);
        bool csv = input->format == "csv";
        int64_t t = NowMs();
        engine::RowCapture aside(conn, kSetAside);
        engine::RowCounter read(conn, kRead);
        std::optional<engine::Tokenizer> tokens;
        if (UsesTokens(job)) tokens.emplace(conn, kToken, TokenKey());
        // One pass: rows in play stream to the output batch; the steps hand every other row to
        // `aside` (dropped rows counted, quarantined rows kept) in the same statement.
        OutputSpec spec{job.output.table,
                        "job",
                        job.output.mode,
                        job.output.key,
                        job.output.partition_by,
                        "_sluice_file",
                        base_version,
                        options.full_refresh,
                        range};
        // DuckDB's JSON reader has no reject table: a line it cannot read stops the statement. The
        // line is kept out (a file that is one document, whole) and the statement runs again.
        std::vector<BadFile> bad_files;
        catalog::JsonLineRepair json_lines(conn, *ws.store);
        // DuckDB's reject tables name a file by the local path it read: back to its lake key.
        const std::string key_of_path =
            fmt::format("list_extract({}, list_position({}, s.file_path))", SqlStringList(keys),
                        SqlStringList(local.Paths(keys)));
        std::unique_ptr<Batch> batch;
        // A script job: the rows its steps leave go to the program as files, not to the output.
        ScopedFolder script_dir(job.script ? ws.store->ScratchDir() : fs::path());
        bool script_input = false;
        while (!batch && !script_input) {
          std::string scan =
              catalog::ScanSql(*input, files, local, {.capture_rejects = csv, .file_index = true});
          try {
            if (job.script) {
              WriteScriptInput(conn, *job.script, CompileJob(conn, job, {}, scan, range),
                               script_dir.path / "input");
              script_input = true;
            } else {
              batch = WriteBatch(conn, *ws.store, spec, CompileJob(conn, job, rules, scan, range),
                                 run.id, options);
            }
          } catch (const Error& e) {
            if (e.code() == "config.step_mismatch" || e.code() == "config.output_mismatch") {
              RethrowWith(FilesLackingColumns(*input, files));
            }
            if (input->format != "json") throw;
            auto fault = json_lines.Absorb(e.what(), local);
            if (fault.outcome == catalog::JsonLineRepair::Outcome::kNotALine) throw;
            if (fault.outcome == catalog::JsonLineRepair::Outcome::kWholeFile) {
              const auto& w = fault.whole;
              bad_files.push_back(
                  {w.key, w.line > 0 ? std::optional(w.line) : std::nullopt, w.reason, w.raw});
              std::erase_if(files, [&](const meta::TableFile& f) { return f.key == w.key; });
            }
            aside.Reset();
            read.Reset();
          }
        }
        {
          // Which files had lines rejected, so that a file of only bad lines counts as read.
          std::set<std::string> rejected;
          if (csv) {
            auto r =
                conn.Query(fmt::format("SELECT DISTINCT {} FROM reject_errors e JOIN reject_scans "
                                       "s USING (scan_id, file_id)",
                                       key_of_path));
            for (size_t i = 0; i < r.row_count(); ++i) rejected.insert(r.GetOr(0, i));
          }
          for (auto& b : FilesWithoutRows(conn, *input, files, read.counts(), rejected, local)) {
            bad_files.push_back(std::move(b));
          }
        }
        if (job.script) {
          step_done("transform", t, read.count());
          t = NowMs();
          RunScript(job, *job.script, ws.project.root, script_dir.path, run.id);
          // The program's rows, judged by the job's checks, are the output: no arrival order.
          OutputSpec script_spec = spec;
          script_spec.arrival_column.clear();
          batch =
              WriteBatch(conn, *ws.store, script_spec,
                         ScriptOutputSql(conn, job, *job.script, rules, script_dir.path / "output"),
                         run.id, options);
        }
        report.rows_out = batch->rows();
        auto count = [&](const char* reason) {
          auto it = aside.counts().find(reason);
          return it == aside.counts().end() ? 0 : it->second;
        };
        report.rows_filtered = count("drop:filter");
        report.rows_deduplicated = count("drop:dedupe");
        report.rows_outside_range = count("drop:range");
        step_done(job.script ? "script" : "transform", t, report.rows_out);

        // Quarantine: rows rejected by a step or a check, and lines the reader could not parse.
        aside.Materialize(conn, "_set_aside");
        // _sluice_file numbers the files of the scan that went through (files without rows
        // included: their number yields nothing).
        std::vector<std::string> read_keys;
        for (const auto& f : files) read_keys.push_back(f.key);
        std::string quarantine_sql = fmt::format(
            "SELECT list_extract({}, file) AS _source_file, CAST(NULL AS BIGINT) AS _line, "
            "reason AS _reason, raw AS _raw FROM _set_aside",
            SqlStringList(read_keys));
        // A job that masks columns keeps no unparsed text in quarantine (it cannot tell which part
        // is which column): the file and line point at it in the landing zone.
        bool masks = std::any_of(job.steps.begin(), job.steps.end(),
                                 [](const project::Step& s) { return !s.masks.empty(); });
        // Kept out by Sluice rather than a reader's reject table: the bad lines of JSON files whose
        // other lines flowed on, and the files kept out whole.
        std::vector<BadFile> unread;
        for (auto& line : json_lines.bad_lines()) {
          unread.push_back({line.key, line.line, std::move(line.reason), std::move(line.raw)});
        }
        unread.insert(unread.end(), bad_files.begin(), bad_files.end());
        for (const auto& b : unread) {
          quarantine_sql +=
              fmt::format(" UNION ALL SELECT {}, CAST({} AS BIGINT), {}, {}", SqlString(b.key),
                          b.line ? std::to_string(*b.line) : "NULL", SqlString(b.reason),
                          masks || b.raw.empty() ? "NULL" : SqlString(b.raw));
        }
        if (csv) {
          LocateInvalidUtf8Lines(conn, *input, local, key_of_path);
          // DuckDB may report several errors for one line (one per missing column): keep the first.
          quarantine_sql += fmt::format(
              " UNION ALL SELECT {0}, CAST(e.line AS BIGINT), 'malformed: ' || CASE WHEN "
              "starts_with(e.error_message, 'Invalid unicode') THEN 'invalid UTF-8 at line ' || "
              "e.line || coalesce(' byte ' || u.byte, '') ELSE {1} END, {2} "
              "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
              "LEFT JOIN _sluice_utf8 u ON u.key = {0} AND u.line = e.line "
              "QUALIFY row_number() OVER (PARTITION BY e.scan_id, e.file_id, e.line "
              "ORDER BY e.column_idx NULLS LAST, e.error_message) = 1",
              key_of_path,
              // DuckDB's message may quote the value: a masking job names the kind of fault and the
              // column only.
              masks ? "lower(e.error_type::VARCHAR) || coalesce(' at column ' || e.column_name, '')"
                    : "e.error_message",
              masks ? "NULL" : "e.csv_line");
        }
        conn.Execute("CREATE TEMP TABLE _quarantine AS " + quarantine_sql);
        auto reasons = conn.Query(
            "SELECT CASE WHEN starts_with(_reason, 'malformed JSON') THEN 'malformed JSON file' "
            "WHEN starts_with(_reason, 'no rows read') THEN 'file with no readable rows' "
            "WHEN starts_with(_reason, 'malformed') THEN 'malformed line' "
            "WHEN starts_with(_reason, 'cast: ') THEN split_part(_reason, ' value ', 1) "
            "ELSE _reason END AS reason, count(*) FROM _quarantine GROUP BY ALL ORDER BY 2 DESC");
        for (size_t i = 0; i < reasons.row_count(); ++i) {
          report.quarantine_reasons[reasons.GetOr(0, i)] = reasons.GetInt(1, i);
          report.rows_quarantined += reasons.GetInt(1, i);
        }
        // Rows read: parsed rows, plus lines the reader could not parse. What no step accounts for
        // was left out by an `sql` step.
        int64_t malformed = report.quarantine_reasons.count("malformed line")
                                ? report.quarantine_reasons.at("malformed line")
                                : 0;
        report.rows_in = read.count() + malformed;
        // A file kept out whole is one quarantined record standing for a file whose rows were not
        // read: it is not in the row arithmetic.
        report.rows_left_out = report.rows_in - report.rows_out - report.rows_filtered -
                               report.rows_deduplicated - report.rows_outside_range -
                               (report.rows_quarantined - static_cast<int64_t>(bad_files.size()));
        if (job.script) report.rows_left_out = 0;  // a program makes rows of its own

        // Checks that judge the output as a whole (fail and warn), over the batch.
        t = NowMs();
        quality::History history = [&](const std::string& rule, size_t n) {
          return metastore.RuleHistory(report.output, rule, n, "job");
        };
        report.checks =
            JudgeBatch(conn, batch->ScanSql(), report.output, rules, history, "_quarantine");
        step_done("checks", t, -1);
        quality::RequirePassing(report.checks, "job " + job.name);

        t = NowMs();
        auto change = Publish(conn, *ws.store, metastore, spec, *batch, run.id, options);
        if (range && batch->rows() == 0 && change.removed.empty()) {
          // Nothing in the range, in the rows or in the table: no version to publish.
          DiscardFiles(*ws.store, {change});
          report.status = run.status = meta::RunStatus::kSucceeded;
          report.message = fmt::format(
              "backfill {}: no rows and no files in the range; nothing changed", range->text);
          run.details = json{{"message", report.message}, {"backfill", range->text}}.dump();
          run.rows_in = report.rows_in;
          run.ended_ms = NowMs();
          metastore.FinishRun(run, steps, report.checks);
          report.checks.clear();
          report.rows_quarantined = 0;
          report.duration_ms = run.ended_ms - started;
          return report;
        }
        step_done("write " + report.output, t, batch->rows());
        meta::RunCommit commit;
        commit.tables.push_back(change);
        auto output_table = metastore.GetTable(job.output.table.db, job.output.table.name);
        report.version = output_table ? output_table->version + 1 : 1;
        if (report.rows_quarantined > 0) {
          t = NowMs();
          auto qw = WriteQuarantine(conn, *ws.store, metastore, {"quarantine", job.name}, run.id,
                                    commit.tables);
          step_done("write quarantine." + job.name, t, qw.rows);
          commit.tables.push_back(qw.change);
        }
        if (job.incremental && !range) {  // a backfill read files the bookmarks already hold
          commit.bookmark_job = job.name;
          commit.bookmark_keys = keys;
          commit.bookmarks_reset = options.full_refresh;
        }
        run.status = report.status = meta::RunStatus::kSucceeded;
        run.rows_in = report.rows_in;
        run.rows_out = report.rows_out;
        run.rows_quarantined = report.rows_quarantined;
        run.ended_ms = NowMs();
        json details = {{"output", report.output},
                        {"version", report.version},
                        {"rows_filtered", report.rows_filtered},
                        {"rows_deduplicated", report.rows_deduplicated},
                        {"rows_left_out_by_sql", report.rows_left_out},
                        {"quarantine_reasons", report.quarantine_reasons},
                        {"files_kept_out", json::array()}};
        if (options.full_refresh) details["full_refresh"] = true;
        if (range) {
          details["backfill"] = range->text;
          details["rows_outside_range"] = report.rows_outside_range;
          details["files_replaced"] = change.removed.size();
        }
        for (const auto& b : bad_files) {
          details["files_kept_out"].push_back({{"file", b.key}, {"reason", b.reason}});
        }
        run.details = details.dump();
        commit.run = run;
        commit.checks = report.checks;
        commit.steps = steps;
        CommitOrDiscard(*ws.store, metastore, commit);
        RecordMasks(job, metastore, *input);
        report.duration_ms = run.ended_ms - started;
        std::string what = options.full_refresh ? "full refresh: " : "";
        if (range) {
          what = fmt::format("backfill {}: {} row{} outside the range, {} file{} replaced; ",
                             range->text, HumanCount(report.rows_outside_range),
                             report.rows_outside_range == 1 ? "" : "s", change.removed.size(),
                             change.removed.size() == 1 ? "" : "s");
        }
        report.message =
            fmt::format("{}{} rows in, {} out, {} quarantined", what, HumanCount(report.rows_in),
                        HumanCount(report.rows_out), HumanCount(report.rows_quarantined));
        return report;
      };
      try {
        return run_attempt();
      } catch (const Error& e) {
        // A failure of an attempt whose output moved underneath it (another run published
        // while it read the catalog) is that race too, whatever it looked like.
        bool lost_race = e.code() == "publish.conflict" ||
                         (e.kind() != ErrorKind::kInterrupted && attempt_base >= 0 &&
                          CurrentVersion(metastore, job.output.table) != attempt_base);
        if (!lost_race || attempt == kConflictAttempts) throw;
        // Nothing of this attempt was published (CommitOrDiscard removed its files): read the
        // output's new version and the bookmarks again, and write this run's rows on top.
        metastore.AppendLog(run.id, "info", "",
                            fmt::format("{}; attempt {} of {} starts over", Redact(e.what()),
                                        attempt + 1, kConflictAttempts));
        job = declared;
        attempt_base = -1;
        report = fresh_report;
        run = fresh_run;
        steps.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(ConflictBackoffMs(attempt)));
      }
    }
  } catch (const std::exception& e) {
    // Nothing was published: the failed run counts rows read only, and keeps no "write" step
    // (its files were discarded).
    run.rows_in = report.rows_in;
    run.rows_out = run.rows_quarantined = 0;
    run.details.clear();
    std::erase_if(steps, [](const meta::RunStep& s) { return StartsWith(s.name, "write "); });
    metastore.StopRun(run, e, Redact(e.what()), steps, report.checks);
    throw;
  }
}

}  // namespace sluice::transform
