#include <fmt/format.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "transform/output.h"
#include "transform/run.h"
#include "transform/validate.h"

namespace sluice::transform {

using nlohmann::json;

namespace {

const char* kAlive = "(_reason IS NULL AND _drop IS NULL)";
const std::set<std::string> kMeta = {"_source_file", "_reason", "_raw", "_drop"};

std::vector<std::string> DataColumns(engine::Connection& conn, const std::string& ctes,
                                     const std::string& last) {
  auto r = conn.Query(fmt::format("DESCRIBE {} SELECT * FROM {}", ctes, last));
  std::vector<std::string> out;
  for (size_t i = 0; i < r.row_count(); ++i) {
    std::string name = r.GetOr(0, i);
    if (!kMeta.count(name)) out.push_back(name);
  }
  return out;
}

std::string RowJson(const std::vector<std::string>& columns) {
  std::vector<std::string> fields;
  for (const auto& c : columns) fields.push_back(fmt::format("{} := {}", SqlIdent(c), SqlIdent(c)));
  return fmt::format("to_json(struct_pack({}))::VARCHAR", Join(fields, ", "));
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

bool Has(const std::vector<std::string>& columns, const std::string& name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

std::string StepSql(const project::Step& step, const std::string& prev,
                    const std::vector<std::string>& columns) {
  auto ident = [](const std::string& n) { return SqlIdent(n); };
  if (step.kind == "select") {
    std::vector<std::string> cols;
    for (const auto& c : step.columns) cols.push_back(ident(c));
    return fmt::format("SELECT {}, _source_file, _reason, _raw, _drop FROM {}", Join(cols, ", "),
                       prev);
  }
  if (step.kind == "rename") {
    std::vector<std::string> items;
    for (const auto& [from, to] : step.pairs) items.push_back(ident(from) + " AS " + ident(to));
    return fmt::format("SELECT * RENAME ({}) FROM {}", Join(items, ", "), prev);
  }
  if (step.kind == "cast") {
    std::vector<std::string> replace, fails, reasons;
    for (const auto& [col, type] : step.pairs) {
      std::string c = ident(col);
      std::string fail = fmt::format("({} IS NOT NULL AND TRY_CAST({} AS {}) IS NULL)", c, c, type);
      replace.push_back(fmt::format("TRY_CAST({} AS {}) AS {}", c, type, c));
      fails.push_back(fail);
      reasons.push_back(
          fmt::format("WHEN {} THEN 'cast: ' || {} || ' value ''' || "
                      "CAST({} AS VARCHAR) || ''' is not a valid ' || {}",
                      fail, SqlString(col), c, SqlString(type)));
    }
    return fmt::format(
        "SELECT * EXCLUDE (_reason, _raw) REPLACE ({}), "
        "CASE WHEN NOT {} THEN _reason {} END AS _reason, "
        "CASE WHEN {} AND ({}) THEN {} ELSE _raw END AS _raw FROM {}",
        Join(replace, ", "), kAlive, Join(reasons, " "), kAlive, Join(fails, " OR "),
        RowJson(columns), prev);
  }
  if (step.kind == "filter") {
    return fmt::format(
        "SELECT * REPLACE (CASE WHEN {} AND NOT coalesce(({}), false) THEN 'filter' "
        "ELSE _drop END AS _drop) FROM {}",
        kAlive, step.text, prev);
  }
  if (step.kind == "derive") {
    std::vector<std::string> replace, added;
    for (const auto& [name, expr] : step.pairs) {
      (Has(columns, name) ? replace : added)
          .push_back(fmt::format("({}) AS {}", expr, ident(name)));
    }
    std::string star = replace.empty() ? "*" : "* REPLACE (" + Join(replace, ", ") + ")";
    return fmt::format("SELECT {}{} FROM {}", star, added.empty() ? "" : ", " + Join(added, ", "),
                       prev);
  }
  if (step.kind == "fill_null") {
    std::vector<std::string> replace;
    for (const auto& [col, value] : step.pairs) {
      replace.push_back(
          fmt::format("coalesce({}, {}) AS {}", ident(col), Literal(value), ident(col)));
    }
    return fmt::format("SELECT * REPLACE ({}) FROM {}", Join(replace, ", "), prev);
  }
  if (step.kind == "dedupe") {
    std::vector<std::string> keys, order;
    for (const auto& k : step.key) keys.push_back(ident(k));
    const char* dir = step.keep == "last" ? "DESC" : "ASC";
    for (const auto& o : step.order_by)
      order.push_back(fmt::format("{} {} NULLS LAST", ident(o), dir));
    // Without order_by, arrival order decides: files land in name order.
    order.push_back(fmt::format("_source_file {}", dir));
    return fmt::format(
        "SELECT * REPLACE (CASE WHEN {} AND row_number() OVER (PARTITION BY {}, {} ORDER BY {}) > "
        "1 "
        "THEN 'dedupe' ELSE _drop END AS _drop) FROM {}",
        kAlive, Join(keys, ", "), kAlive, Join(order, ", "), prev);
  }
  if (step.kind == "mask") {
    std::vector<std::string> replace;
    for (const auto& [col, spec] : step.masks) {
      std::string c = ident(col), text = fmt::format("CAST({} AS VARCHAR)", c), expr;
      if (spec.method == "hash") {
        const char* salt = std::getenv("SLUICE_MASK_SALT");
        expr = fmt::format("sha256({} || {})", SqlString(salt ? salt : ""), text);
      } else if (spec.method == "redact") {
        expr = "'[REDACTED]'";
      } else {
        // A value no longer than what would be kept is masked whole.
        expr = fmt::format(
            "CASE WHEN length({0}) <= {1} THEN repeat('*', length({0})) "
            "ELSE repeat('*', length({0}) - {1}) || right({0}, {1}) END",
            text, spec.keep);
      }
      replace.push_back(
          fmt::format("CASE WHEN {} IS NULL THEN NULL ELSE {} END AS {}", c, expr, c));
    }
    return fmt::format("SELECT * REPLACE ({}) FROM {}", Join(replace, ", "), prev);
  }
  // sql: the user's SELECT over `input` (the good rows so far); rows already set aside keep
  // their place beside it.
  return fmt::format(
      "SELECT * FROM (WITH input AS (SELECT * EXCLUDE (_reason, _raw, _drop) FROM {} WHERE {}) "
      "SELECT * FROM ({})) "
      "UNION ALL BY NAME SELECT _source_file, _reason, _raw, _drop FROM {} WHERE NOT {}",
      prev, kAlive, step.text, prev, kAlive);
}

std::string ChecksSql(const std::vector<quality::Rule>& rules, const std::string& prev,
                      const std::vector<std::string>& columns) {
  std::vector<std::string> reasons, passes;
  for (const auto& r : rules) {
    if (r.on_fail != "quarantine") continue;
    std::string pass = r.PassSql(kAlive);
    passes.push_back("(" + pass + ")");
    reasons.push_back(
        fmt::format("CASE WHEN NOT ({}) THEN {} END", pass, SqlString("check: " + r.text)));
  }
  if (passes.empty()) return "";
  return fmt::format(
      "SELECT * EXCLUDE (_reason, _raw), "
      "CASE WHEN NOT {} THEN _reason ELSE nullif(concat_ws('; ', {}), '') END AS _reason, "
      "CASE WHEN {} AND NOT ({}) THEN {} ELSE _raw END AS _raw FROM {}",
      kAlive, Join(reasons, ", "), kAlive, Join(passes, " AND "), RowJson(columns), prev);
}

}  // namespace

std::string CompileJob(engine::Connection& conn, const project::Job& job,
                       const std::vector<quality::Rule>& rules, const std::string& input) {
  std::string ctes = fmt::format(
      "WITH s0 AS (SELECT *, CAST(NULL AS VARCHAR) AS _reason, CAST(NULL AS VARCHAR) AS _raw, "
      "CAST(NULL AS VARCHAR) AS _drop FROM {})",
      input);
  std::string prev = "s0";
  auto columns = DataColumns(conn, ctes, prev);
  for (size_t i = 0; i < job.steps.size(); ++i) {
    const auto& step = job.steps[i];
    std::string name = fmt::format("s{}", i + 1);
    std::string candidate = ctes + fmt::format(", {} AS ({})", name, StepSql(step, prev, columns));
    try {
      columns = DataColumns(conn, candidate, name);
    } catch (const Error& e) {
      Fail(ErrorKind::kConfig, "{}: step {} ({}) of job {} does not fit its input: {}",
           step.where.str(), i + 1, step.kind, job.name, e.what());
    }
    ctes = candidate;
    prev = name;
  }
  std::string checks = ChecksSql(rules, prev, columns);
  if (!checks.empty()) {
    std::string candidate = ctes + ", checked AS (" + checks + ")";
    try {
      columns = DataColumns(conn, candidate, "checked");
    } catch (const Error& e) {
      Fail(ErrorKind::kConfig, "{}: the checks of job {} do not fit its output: {}",
           job.checks.front().where.str(), job.name, e.what());
    }
    ctes = candidate;
    prev = "checked";
  }
  return fmt::format("{} SELECT * FROM {}", ctes, prev);
}

RunReport RunJob(Workspace& ws, const project::Job& job, const RunOptions& options) {
  RunReport report;
  report.kind = "job";
  report.name = job.name;
  report.output = job.output.table.str();
  int64_t started = NowMs();
  auto& metastore = *ws.metastore;
  report.run_id = metastore.StartRun("job", job.name, options.trigger);
  meta::Run run{report.run_id, "job", job.name, "running", options.trigger, started};
  std::vector<meta::RunStep> steps;
  auto step_done = [&](const std::string& name, int64_t since, int64_t rows) {
    steps.push_back(
        {run.id, static_cast<int>(steps.size()), name, "succeeded", since, NowMs(), rows, ""});
  };
  try {
    project::Diagnostics diagnostics;
    auto rules = ParseChecks(job, diagnostics);
    diagnostics.ThrowIfAny();
    auto input = metastore.GetTable(job.input.db, job.input.name);
    if (!input) {
      Fail(ErrorKind::kInput, "{}: input table {} is not in the catalog yet\n  hint: {}",
           job.input_where.str(), job.input.str(),
           job.input.db == "bronze"
               ? fmt::format("land files with `sluice ingest {} FILE...` and run `sluice crawl {}`",
                             job.input.name, job.input.name)
               : fmt::format("run the job or model that writes {} first", job.input.str()));
    }
    std::vector<meta::TableFile> files;
    std::vector<std::string> keys;
    {
      std::set<std::string> done;
      if (job.incremental) done = metastore.Bookmarks(job.name);
      for (auto& f : metastore.TableFiles(input->id, input->version, false)) {
        if (done.count(f.key)) continue;
        keys.push_back(f.key);
        files.push_back(std::move(f));
      }
    }
    report.files_read = run.files_read = static_cast<int64_t>(keys.size());
    if (keys.empty()) {
      report.status = run.status = "succeeded";
      report.message = job.incremental ? "no new files since the last run; nothing changed"
                                       : "the input has no files; nothing changed";
      run.details = json{{"message", report.message}}.dump();
      run.ended_ms = NowMs();
      metastore.FinishRun(run, steps, {});
      report.duration_ms = run.ended_ms - started;
      return report;
    }

    engine::Database db;
    engine::Connection conn(db);
    catalog::AttachTables(conn, metastore, *ws.store);
    bool csv = input->format == "csv";
    std::string scan = catalog::ScanSql(*input, files, *ws.store, {csv, true});
    int64_t t = NowMs();
    std::string compiled = CompileJob(conn, job, rules, scan);
    std::string create = "CREATE TEMP TABLE _result AS " + compiled;
    if (options.progress) {
      conn.QueryWithProgress(create, [&](double p) { options.progress(job.name, p); });
    } else {
      conn.Execute(create);
    }
    // Figures of the run, in one pass over the result.
    auto figures = conn.Query(
        "SELECT count(*), count(*) FILTER (WHERE _reason IS NULL AND _drop IS NULL), "
        "count(*) FILTER (WHERE _drop = 'filter'), count(*) FILTER (WHERE _drop = 'dedupe') "
        "FROM _result");
    report.rows_in = figures.GetInt(0, 0);
    report.rows_out = figures.GetInt(1, 0);
    report.rows_filtered = figures.GetInt(2, 0);
    report.rows_deduplicated = figures.GetInt(3, 0);
    step_done("transform", t, report.rows_in);

    // Quarantine: rows rejected by a step or a check, and lines the reader could not parse.
    std::string root = ws.store->ReadablePath(keys.front());
    root = root.substr(0, root.size() - keys.front().size());
    std::string quarantine_sql =
        "SELECT _source_file, CAST(NULL AS BIGINT) AS _line, _reason, _raw FROM _result "
        "WHERE _reason IS NOT NULL";
    if (csv) {
      // DuckDB may report several errors for one line (one per missing column): keep the first.
      quarantine_sql += fmt::format(
          " UNION ALL SELECT substr(s.file_path, {}), CAST(e.line AS BIGINT), "
          "'malformed: ' || e.error_message, e.csv_line "
          "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
          "QUALIFY row_number() OVER (PARTITION BY e.scan_id, e.file_id, e.line "
          "ORDER BY e.column_idx NULLS LAST, e.error_message) = 1",
          root.size() + 1);
    }
    conn.Execute("CREATE TEMP TABLE _quarantine AS " + quarantine_sql);
    auto reasons = conn.Query(
        "SELECT CASE WHEN starts_with(_reason, 'malformed') THEN 'malformed line' "
        "WHEN starts_with(_reason, 'cast: ') THEN split_part(_reason, ' value ', 1) "
        "ELSE _reason END AS reason, count(*) FROM _quarantine GROUP BY ALL ORDER BY 2 DESC");
    for (size_t i = 0; i < reasons.row_count(); ++i) {
      report.quarantine_reasons[reasons.GetOr(0, i)] = reasons.GetInt(1, i);
      report.rows_quarantined += reasons.GetInt(1, i);
    }
    report.rows_in += conn.Query(
                              "SELECT count(*) FROM _quarantine WHERE starts_with(_reason, "
                              "'malformed')")
                          .GetInt(0, 0);

    // Checks that judge the output as a whole (fail and warn).
    conn.Execute(
        "CREATE TEMP VIEW _good AS SELECT * EXCLUDE (_source_file, _reason, _raw, _drop) "
        "FROM _result WHERE _reason IS NULL AND _drop IS NULL");
    t = NowMs();
    std::vector<quality::Rule> judged;
    for (const auto& r : rules) {
      if (r.on_fail != "quarantine") judged.push_back(r);
    }
    report.checks = quality::Evaluate(conn, "_good", report.output, judged);
    // Quarantining rules report how many rows they set aside.
    for (const auto& r : rules) {
      if (r.on_fail != "quarantine") continue;
      auto n =
          conn.Query(fmt::format("SELECT count(*) FROM _quarantine WHERE contains(_reason, {})",
                                 SqlString("check: " + r.text)));
      int64_t failing = n.GetInt(0, 0);
      report.checks.push_back(
          {report.output, r.text, r.on_fail, failing ? "fail" : "pass",
           fmt::format("{} quarantined", failing), failing,
           fmt::format("{} row{} quarantined", failing, failing == 1 ? "" : "s")});
    }
    step_done("checks", t, -1);
    std::vector<std::string> failed;
    for (const auto& c : report.checks) {
      if (c.outcome != "pass" && c.on_fail == "fail") failed.push_back(c.rule + ": " + c.message);
    }
    if (!failed.empty()) {
      Fail(ErrorKind::kQuality, "job {}: {} check{} failed, nothing was published:\n  {}", job.name,
           failed.size(), failed.size() == 1 ? "" : "s", Join(failed, "\n  "));
    }

    t = NowMs();
    OutputSpec spec{job.output.table,        "job",         job.output.mode, job.output.key,
                    job.output.partition_by, "_source_file"};
    auto written = WriteTable(conn, *ws.store, metastore, spec,
                              "SELECT * EXCLUDE (_reason, _raw, _drop) FROM _result "
                              "WHERE _reason IS NULL AND _drop IS NULL",
                              run.id, options);
    step_done("write " + report.output, t, written.rows);
    meta::RunCommit commit;
    commit.tables.push_back(written.change);
    auto output_table = metastore.GetTable(job.output.table.db, job.output.table.name);
    report.version = output_table ? output_table->version + 1 : 1;
    if (report.rows_quarantined > 0) {
      t = NowMs();
      OutputSpec q{{"quarantine", job.name}, "quarantine", "append", {}, {}};
      auto qw = WriteTable(
          conn, *ws.store, metastore, q,
          fmt::format("SELECT *, CAST({} AS BIGINT) AS _run_id FROM _quarantine", run.id), run.id,
          {});
      step_done("write quarantine." + job.name, t, qw.rows);
      commit.tables.push_back(qw.change);
    }
    if (job.incremental) {
      commit.bookmark_job = job.name;
      commit.bookmark_keys = keys;
    }
    run.status = report.status = "succeeded";
    run.rows_in = report.rows_in;
    run.rows_out = report.rows_out;
    run.rows_quarantined = report.rows_quarantined;
    run.ended_ms = NowMs();
    json details = {{"output", report.output},
                    {"version", report.version},
                    {"rows_filtered", report.rows_filtered},
                    {"rows_deduplicated", report.rows_deduplicated},
                    {"quarantine_reasons", report.quarantine_reasons}};
    run.details = details.dump();
    commit.run = run;
    commit.checks = report.checks;
    commit.steps = steps;
    metastore.CommitRun(commit);
    report.duration_ms = run.ended_ms - started;
    report.message = fmt::format("{} rows in, {} out, {} quarantined", HumanCount(report.rows_in),
                                 HumanCount(report.rows_out), HumanCount(report.rows_quarantined));
    return report;
  } catch (const std::exception& e) {
    run.rows_in = report.rows_in;
    metastore.FailRun(run, e.what(), steps, report.checks);
    throw;
  }
}

}  // namespace sluice::transform
