#include "cli/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "catalog/crawler.h"
#include "catalog/ingest.h"
#include "catalog/pii_tags.h"
#include "catalog/query.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/process.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "examples/retail.h"
#include "lake/zones.h"
#include "orchestrator/executor.h"
#include "orchestrator/plan.h"
#include "server/api.h"
#include "transform/run.h"
#include "transform/validate.h"
#include "transform/workspace.h"

namespace sluice::cli {

using nlohmann::json;

namespace {

// Progress on stderr, only on a terminal, overwritten in place.
transform::RunOptions Progress() {
  transform::RunOptions options;
  if (StderrIsTerminal()) {
    options.progress = [](const std::string& what, double percent) {
      std::fprintf(stderr, "\r  %s: %3.0f%%", what.c_str(), percent);
      std::fflush(stderr);
    };
  }
  return options;
}

void ClearProgress() {
  if (StderrIsTerminal()) std::fprintf(stderr, "\r\033[K");
}

json CheckJson(const meta::CheckResult& c) {
  return {{"table", c.table},
          {"rule", c.rule},
          {"on_fail", c.on_fail},
          {"outcome", c.outcome},
          {"observed", c.observed},
          {"failing_rows", c.failing_rows < 0 ? json(nullptr) : json(c.failing_rows)},
          {"message", c.message}};
}

// The checks that did not pass, a line each.
void PrintFailedChecks(const std::vector<meta::CheckResult>& checks) {
  for (const auto& c : checks) {
    if (c.outcome == "pass") continue;
    std::cout << fmt::format("  check {} ({}): {} - {}\n", c.outcome, c.on_fail, c.rule,
                             c.message.empty() ? "observed " + c.observed : c.message);
  }
}

json ReportJson(const transform::RunReport& r) {
  json checks = json::array();
  for (const auto& c : r.checks) checks.push_back(CheckJson(c));
  return {{"run_id", r.run_id},
          {"kind", r.kind},
          {"name", r.name},
          {"status", r.status},
          {"message", r.message},
          {"output", r.output},
          {"version", r.version},
          {"rows_in", r.rows_in},
          {"rows_out", r.rows_out},
          {"rows_quarantined", r.rows_quarantined},
          {"rows_filtered", r.rows_filtered},
          {"rows_deduplicated", r.rows_deduplicated},
          {"rows_left_out_by_sql", r.rows_left_out},
          {"files_read", r.files_read},
          {"quarantine_reasons", r.quarantine_reasons},
          {"checks", checks},
          {"duration_ms", r.duration_ms}};
}

void PrintReport(const transform::RunReport& r) {
  if (r.version == 0) {
    std::cout << fmt::format("{} {}: {}\n", r.kind, r.name, r.message);
    return;
  }
  std::cout << fmt::format("{} {} -> {} (version {}): {} in {}\n", r.kind, r.name, r.output,
                           r.version, r.message, Duration(r.duration_ms));
  if (r.rows_filtered || r.rows_deduplicated) {
    std::cout << fmt::format("  dropped: {} by filter, {} duplicates\n",
                             HumanCount(r.rows_filtered), HumanCount(r.rows_deduplicated));
  }
  if (r.rows_left_out) {
    std::cout << fmt::format("  left out by sql steps: {}\n", HumanCount(r.rows_left_out));
  }
  for (const auto& [reason, n] : r.quarantine_reasons) {
    std::cout << fmt::format("  quarantined {:>9}  {}\n", HumanCount(n), reason);
  }
  PrintFailedChecks(r.checks);
}

}  // namespace

int Init(const std::string& dir, const std::string& example, bool sample_data) {
  fs::path root(dir);
  std::error_code ec;
  if (fs::exists(root / "sluice.yaml", ec)) {
    Fail(ErrorKind::kUsage, "{} already holds a project (sluice.yaml); pick another folder", dir);
  }
  examples::WriteRetailProject(root);
  std::string data_note;
  if (sample_data) {
    auto files = examples::GenerateOrders(root, {3, 2000, 42});
    data_note = fmt::format(" and {} sample files ({} orders) in data/orders/", files.files,
                            HumanCount(files.rows));
  }
  std::cout << fmt::format("Created the {} project in {}{}.\n\nNext:\n", example, dir, data_note);
  std::cout << fmt::format("  cd {}\n", dir);
  std::cout << (sample_data ? "  sluice ingest orders data/orders\n"
                            : "  sluice ingest orders YOUR_ORDER_FILES...\n");
  std::cout << "  sluice crawl\n  sluice run --all\n"
               "  sluice query \"SELECT * FROM gold.country_revenue ORDER BY rank\"\n";
  return 0;
}

int Validate(const Global& g, const std::string& format) {
  fs::path root = Root(g);
  project::Diagnostics diagnostics;
  transform::Workspace ws;
  ws.project = project::Load(root, g.env, diagnostics);
  ws.workflows = project::LoadWorkflows(root, diagnostics);
  transform::Validate(ws.project, diagnostics);
  orchestrator::ValidateWorkflows(ws, diagnostics);
  const auto& project = ws.project;
  if (format == "json") {
    json problems = json::array();
    for (const auto& d : diagnostics.items()) {
      problems.push_back({{"file", d.where.file},
                          {"line", d.where.line},
                          {"column", d.where.column},
                          {"message", Redact(d.message)},
                          {"hint", d.hint}});
    }
    PrintJson({{"ok", diagnostics.empty()}, {"problems", problems}});
    return diagnostics.empty() ? 0 : 2;
  }
  if (!diagnostics.empty()) {
    for (const auto& d : diagnostics.items()) std::cerr << Redact(d.str()) << "\n";
    std::cerr << fmt::format("{} error{} in {}\n", diagnostics.items().size(),
                             diagnostics.items().size() == 1 ? "" : "s", root.string());
    return 2;
  }
  auto plural = [](size_t n) { return n == 1 ? "" : "s"; };
  std::cout << fmt::format(
      "ok: project {} ({} source{}, {} job{}, {} model{}, {} workflow{}), environment {}\n",
      project.name, project.sources.size(), plural(project.sources.size()), project.jobs.size(),
      plural(project.jobs.size()), project.models.size(), plural(project.models.size()),
      ws.workflows.size(), plural(ws.workflows.size()), g.env);
  return 0;
}

namespace {
const project::Source& FindSource(const transform::Workspace& ws, const std::string& name) {
  auto it = ws.project.sources.find(name);
  if (it != ws.project.sources.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, s] : ws.project.sources) names.push_back(n);
  std::string near = Nearest(name, names);
  Fail(ErrorKind::kUsage, "no source '{}' in the project{}", name,
       near.empty() ? (names.empty() ? "" : " (sources: " + Join(names, ", ") + ")")
                    : fmt::format("; did you mean '{}'?", near));
}
}  // namespace

int IngestFiles(const Global& g, const std::string& source, const std::vector<std::string>& paths,
                const std::string& format) {
  auto ws = Open(g);
  FindSource(ws, source);
  auto files = catalog::Ingest(source, paths, *ws.store, *ws.metastore);
  size_t landed = 0;
  json out = json::array();
  for (const auto& f : files) {
    landed += f.outcome == "landed";
    out.push_back({{"path", f.path}, {"key", f.key}, {"outcome", f.outcome}});
  }
  if (format == "json") {
    PrintJson(out);
    return 0;
  }
  for (const auto& f : files) {
    if (f.outcome == "landed") {
      std::cout << fmt::format("landed   {} -> {}\n", f.path, f.key);
    } else {
      std::cout << fmt::format("skipped  {}: the same bytes already landed as {}\n", f.path, f.key);
    }
  }
  std::cout << fmt::format("{} file{} landed, {} already there\n", landed, landed == 1 ? "" : "s",
                           files.size() - landed);
  return 0;
}

int CrawlSources(const Global& g, const std::vector<std::string>& sources,
                 const std::string& format) {
  auto ws = Open(g);
  std::vector<const project::Source*> todo;
  if (sources.empty()) {
    for (const auto& [n, s] : ws.project.sources) todo.push_back(&s);
  } else {
    for (const auto& n : sources) todo.push_back(&FindSource(ws, n));
  }
  engine::Database db;
  engine::Connection conn(db);
  json out = json::array();
  for (const auto* s : todo) {
    auto r = catalog::Crawl(*s, ws.project.root, *ws.store, *ws.metastore, conn);
    json q = json::array(), checks = json::array();
    for (const auto& [key, reason] : r.quarantined) {
      q.push_back({{"file", key}, {"reason", reason}});
    }
    for (const auto& c : r.checks) checks.push_back(CheckJson(c));
    out.push_back({{"source", r.source},
                   {"table", "bronze." + r.source},
                   {"run_id", r.run_id},
                   {"new_files", r.new_files},
                   {"registered", r.registered},
                   {"quarantined", q},
                   {"version", r.version},
                   {"schema_change", r.schema_change},
                   {"checks", checks}});
    if (format == "json") continue;
    if (!r.changed) {
      std::cout << fmt::format("bronze.{}: no new files (version {})\n", r.source, r.version);
      continue;
    }
    std::cout << fmt::format("bronze.{}: {} new file{} registered, version {}\n", r.source,
                             r.registered, r.registered == 1 ? "" : "s", r.version);
    if (!r.schema_change.empty()) std::cout << "  schema: " << r.schema_change << "\n";
    for (const auto& [key, reason] : r.quarantined) {
      std::cout << fmt::format("  quarantined file {}: {}\n", key, reason);
    }
    PrintFailedChecks(r.checks);
  }
  if (format == "json") PrintJson(out);
  return 0;
}

int Run(const Global& g, const std::vector<std::string>& names, bool all,
        const std::string& format) {
  auto ws = Open(g);
  project::Diagnostics diagnostics;
  auto dag = transform::BuildDag(ws.project, diagnostics);
  diagnostics.ThrowIfAny();
  std::set<size_t> wanted;
  for (const auto& name : names) {
    int i = dag.Find(ToLower(name));
    if (i < 0) {
      std::vector<std::string> known;
      for (const auto& n : dag.nodes) known.push_back(n.name);
      std::string near = Nearest(name, known);
      Fail(ErrorKind::kUsage, "no workflow, job or model named '{}'{}", name,
           near.empty() ? "" : fmt::format("; did you mean '{}'?", near));
    }
    wanted.insert(static_cast<size_t>(i));
  }
  auto options = Progress();
  json out = json::array();
  int exit_code = 0;
  for (size_t i : dag.order) {
    if (!all && !wanted.count(i)) continue;
    const auto& node = dag.nodes[i];
    try {
      auto report = node.kind == "job"
                        ? transform::RunJob(ws, ws.project.jobs.at(node.name), options)
                        : transform::RunModel(ws, ws.project.models.at(node.output), options);
      ClearProgress();
      out.push_back(ReportJson(report));
      if (format != "json") PrintReport(report);
    } catch (const Error& e) {
      ClearProgress();
      // With a stable code, as main prints errors: error[publish.conflict]: job x failed: ...
      std::cerr << fmt::format("{}{} {} failed: {}\n",
                               e.code().empty() ? "" : "error[" + e.code() + "]: ", node.kind,
                               node.name, Redact(e.what()));
      out.push_back({{"kind", node.kind},
                     {"name", node.name},
                     {"status", "failed"},
                     {"error_kind", ErrorKindName(e.kind())},
                     {"error_code", e.code().empty() ? ErrorKindName(e.kind()) : e.code()},
                     {"error", Redact(e.what())}});
      exit_code = ExitCodeFor(e.kind());
      break;
    }
  }
  if (format == "json") PrintJson(out);
  return exit_code;
}

int Query(const Global& g, const std::string& sql, const std::string& format, int64_t max_rows) {
  auto ws = Open(g);
  project::QuerySettings limits = ws.project.query;
  if (max_rows >= 0) limits.max_rows = max_rows;
  catalog::RunQuery(*ws.metastore, *ws.store, sql, limits,
                    [&](engine::Result& result) { PrintResult(result, format); });
  return 0;
}

int Catalog(const Global& g, const std::string& table, const std::string& format) {
  auto ws = Open(g);
  auto& m = *ws.metastore;
  if (table.empty()) {
    json out = json::array();
    TextTable t{{"table", "kind", "format", "version", "files", "columns", "updated"},
                {false, false, false, true, true, true, false},
                {}};
    for (const auto& tb : m.ListTables()) {
      auto files = m.TableFiles(tb.id, tb.version, false);
      auto cols = m.TableColumns(tb.id, tb.version);
      out.push_back({{"table", tb.full_name()},
                     {"kind", tb.kind},
                     {"format", tb.format},
                     {"version", tb.version},
                     {"files", files.size()},
                     {"columns", cols.size()},
                     {"updated_at", Time(tb.updated_ms)}});
      t.rows.push_back({tb.full_name(), tb.kind, tb.format, std::to_string(tb.version),
                        std::to_string(files.size()), std::to_string(cols.size()),
                        Time(tb.updated_ms)});
    }
    if (format == "json") {
      PrintJson(out);
    } else if (t.rows.empty()) {
      std::cout << "The catalog is empty: land files with `sluice ingest`, then `sluice crawl`.\n";
    } else {
      t.Print();
    }
    return 0;
  }
  auto name = project::TableName::Parse(table);
  if (!name) Fail(ErrorKind::kUsage, "'{}' is not a table name; write db.table", table);
  auto tb = m.GetTable(name->db, name->name);
  if (!tb) {
    std::vector<std::string> names;
    for (const auto& t : m.ListTables()) names.push_back(t.full_name());
    std::string near = Nearest(table, names);
    Fail(ErrorKind::kUsage, "no table {} in the catalog{}", table,
         near.empty() ? "" : fmt::format("; did you mean '{}'?", near));
  }
  auto files = m.TableFiles(tb->id, tb->version, true);
  auto versions = m.TableVersions(tb->id);
  std::map<std::string, std::pair<int64_t, uint64_t>> partitions;
  json quarantined = json::array();
  uint64_t bytes = 0;
  for (const auto& f : files) {
    if (f.status != "active") {
      quarantined.push_back({{"file", f.key}, {"reason", f.reason}});
      continue;
    }
    bytes += f.size;
    if (!f.partition.empty()) {
      partitions[f.partition].first++;
      partitions[f.partition].second += f.size;
    }
  }
  auto tags = m.ColumnTags(tb->id);
  auto tag_of = [&](const std::string& column) {
    auto it = tags.find(column);
    return it == tags.end() ? std::string("[]") : it->second;
  };
  if (format == "json") {
    json cols = json::array(), parts = json::array(), vers = json::array();
    for (const auto& c : tb->columns) {
      json detail = json::parse(tag_of(c.name), nullptr, false);
      std::string masked = catalog::MaskedBy(tag_of(c.name));
      cols.push_back({{"name", c.name},
                      {"masked", masked.empty() ? json(nullptr) : json(masked)},
                      {"type", c.type},
                      {"partition", c.partition},
                      {"pii", catalog::PiiEntities(tag_of(c.name))},
                      {"pii_detail", detail.is_discarded() ? json::array() : detail}});
    }
    for (const auto& [p, v] : partitions) {
      parts.push_back({{"partition", p}, {"files", v.first}, {"bytes", v.second}});
    }
    for (const auto& v : versions) {
      vers.push_back({{"version", v.version},
                      {"created_at", Time(v.created_ms)},
                      {"run_id", v.run_id},
                      {"change", v.change},
                      {"files", v.files}});
    }
    PrintJson({{"table", tb->full_name()},
               {"kind", tb->kind},
               {"format", tb->format},
               {"version", tb->version},
               {"location", ws.store->Uri(lake::zones::TablePrefix(tb->db, tb->name))},
               {"files", files.size() - quarantined.size()},
               {"bytes", bytes},
               {"columns", cols},
               {"partitions", parts},
               {"versions", vers},
               {"quarantined_files", quarantined}});
    return 0;
  }
  std::cout << fmt::format("{} ({} {}), version {}, {} file{}, {}\n  at {}\n\n", tb->full_name(),
                           tb->kind, tb->format, tb->version, files.size() - quarantined.size(),
                           files.size() - quarantined.size() == 1 ? "" : "s", HumanBytes(bytes),
                           ws.store->Uri(lake::zones::TablePrefix(tb->db, tb->name)));
  TextTable cols{{"column", "type", "", "sensitive data"}, {}, {}};
  for (const auto& c : tb->columns) {
    json detail = json::parse(tag_of(c.name), nullptr, false);
    std::vector<std::string> found;
    for (const auto& t : detail.is_array() ? detail : json::array()) {
      std::string entity = t.value("entity", "");
      if (t.contains("masked")) {
        found.push_back(entity.empty()
                            ? fmt::format("masked ({})", t.value("masked", ""))
                            : fmt::format("{}, masked ({})", entity, t.value("masked", "")));
      } else {
        found.push_back(fmt::format("{} ({:.0f}%)", entity, t.value("confidence", 0.0) * 100));
      }
    }
    cols.rows.push_back({c.name, c.type, c.partition ? "partition" : "", Join(found, ", ")});
  }
  cols.Print();
  if (!partitions.empty()) {
    std::cout << "\n";
    TextTable parts{{"partition", "files", "size"}, {false, true, true}, {}};
    for (const auto& [p, v] : partitions) {
      parts.rows.push_back({p, std::to_string(v.first), HumanBytes(v.second)});
    }
    parts.Print();
  }
  std::cout << "\n";
  TextTable vers{{"version", "created", "run", "change"}, {true, false, true, false}, {}};
  for (const auto& v : versions) {
    vers.rows.push_back({std::to_string(v.version), Time(v.created_ms),
                         v.run_id ? std::to_string(v.run_id) : "", v.change});
  }
  vers.Print();
  if (!quarantined.empty()) {
    std::cout << "\nquarantined files (kept out of the table):\n";
    for (const auto& q : quarantined) {
      std::cout << "  " << q["file"].get<std::string>() << ": " << q["reason"].get<std::string>()
                << "\n";
    }
  }
  return 0;
}

int Runs(const Global& g, const meta::RunFilter& filter, const std::string& format) {
  auto ws = Open(g);
  auto runs = ws.metastore->ListRuns(filter);
  if (format == "json") {
    json out = json::array();
    for (const auto& r : runs) out.push_back(server::RunJson(r));
    PrintJson(out);
    return 0;
  }
  if (runs.empty()) {
    std::cout << "No runs yet.\n";
    return 0;
  }
  TextTable t{{"id", "kind", "name", "status", "started", "duration", "rows in", "rows out",
               "quarantined", "error"},
              {true, false, false, false, false, true, true, true, true, false},
              {}};
  for (const auto& r : runs) {
    std::string error = Split(Redact(r.error), '\n').front();
    if (error.size() > 60) error = error.substr(0, 57) + "...";
    t.rows.push_back({std::to_string(r.id), r.kind, r.name, r.status, Time(r.started_ms),
                      r.ended_ms ? Duration(r.ended_ms - r.started_ms) : "", HumanCount(r.rows_in),
                      HumanCount(r.rows_out), HumanCount(r.rows_quarantined), error});
  }
  t.Print();
  return 0;
}

int RunsShow(const Global& g, int64_t id, const std::string& format) {
  auto ws = Open(g);
  auto run = ws.metastore->GetRun(id);
  if (!run) Fail(ErrorKind::kUsage, "no run {}; `sluice runs` lists them", id);
  if (format == "json") {
    PrintJson(*server::RunDetailJson(*ws.metastore, id));
    return 0;
  }
  auto steps = ws.metastore->RunSteps(id);
  auto checks = ws.metastore->CheckResults(id);
  std::cout << fmt::format("run {}: {} {} {}\n", run->id, run->kind, run->name, run->status);
  std::cout << fmt::format("  trigger   {}\n  started   {}\n  ended     {}\n", run->trigger,
                           Time(run->started_ms), Time(run->ended_ms));
  if (run->ended_ms) {
    std::cout << fmt::format("  duration  {}\n", Duration(run->ended_ms - run->started_ms));
  }
  std::cout << fmt::format("  files     {}\n  rows      {} in, {} out, {} quarantined\n",
                           run->files_read, HumanCount(run->rows_in), HumanCount(run->rows_out),
                           HumanCount(run->rows_quarantined));
  if (!run->error.empty()) std::cout << "  error     " << Redact(run->error) << "\n";
  json details = json::parse(run->details, nullptr, false);
  if (!details.is_discarded() && details.contains("quarantine_reasons")) {
    for (const auto& [reason, n] : details["quarantine_reasons"].items()) {
      std::cout << fmt::format("  quarantined {:>9}  {}\n", HumanCount(n.get<int64_t>()), reason);
    }
  }
  if (!steps.empty()) {
    std::cout << "\n";
    TextTable t{{"step", "status", "duration", "rows"}, {false, false, true, true}, {}};
    for (const auto& s : steps) {
      t.rows.push_back({s.name, s.status, Duration(s.ended_ms - s.started_ms),
                        s.rows < 0 ? "" : HumanCount(s.rows)});
    }
    t.Print();
  }
  if (run->kind == "workflow") PrintWorkflowSteps(*ws.metastore, id);
  if (!checks.empty()) {
    std::cout << "\n";
    TextTable t{{"check", "on_fail", "outcome", "observed"}, {}, {}};
    for (const auto& c : checks) t.rows.push_back({c.rule, c.on_fail, c.outcome, c.observed});
    t.Print();
  }
  return 0;
}

int Demo(const std::string& dir, int days, int64_t rows_per_day) {
  fs::path root(dir);
  std::error_code ec;
  const fs::path marker = root / ".sluice-demo";
  if (fs::exists(root, ec) && !fs::is_empty(root, ec)) {
    if (!fs::exists(marker, ec)) {
      Fail(ErrorKind::kUsage, "{} exists and is not a Sluice demo folder; pick another folder",
           dir);
    }
    fs::remove_all(root, ec);
  }
  int64_t t0 = MonotonicMs();
  auto step = [&](const std::string& text) {
    std::cout << fmt::format("[{:>5.1f}s] {}\n", (MonotonicMs() - t0) / 1000.0, text);
    std::cout.flush();
  };
  examples::WriteRetailProject(root);
  WriteFileAtomic(marker, "This folder is made (and remade) by `sluice demo`.\n");
  auto generated = examples::GenerateOrders(root, {days, rows_per_day, 42});
  step(fmt::format("generated {} daily order files, {} rows, in {}/data/orders", generated.files,
                   HumanCount(generated.rows), dir));
  auto ws = transform::Workspace::Open(fs::absolute(root), "dev");
  auto landed =
      catalog::Ingest("orders", {(root / "data" / "orders").string()}, *ws.store, *ws.metastore);
  step(fmt::format("ingested {} files into landing/orders/", landed.size()));
  // The pipeline is the example's workflow, as `sluice serve` would run it on their arrival.
  auto shared = std::make_shared<transform::Workspace>(ws);
  int64_t run_id = orchestrator::Enqueue(*ws.metastore, ws.workflows.at("orders"), "demo", {});
  ws.metastore->ClaimRun(run_id, ProcessOwner());
  std::string status = ExecuteHere(shared, run_id, [&](const meta::LogLine& l) {
    if (l.level != "info" || l.message.find(" succeeded in ") == std::string::npos) return;
    if (l.step.empty() || l.step == "parallel" || l.step == "choice") return;
    step(fmt::format("workflow orders [{}] {}", l.step, l.message));
  });
  if (status != "succeeded") {
    Fail(ErrorKind::kInternal, "the demo workflow run {} {}: {}", run_id, status,
         ws.metastore->GetRun(run_id)->error);
  }
  auto q = [&](const std::string& title, const std::string& sql) {
    std::cout << "\n" << title << "\n";
    catalog::RunQuery(*ws.metastore, *ws.store, sql, ws.project.query,
                      [](engine::Result& r) { PrintResult(r, "table"); });
  };
  q("Rows per zone",
    "SELECT 'bronze.orders' AS \"table\", count(*) AS rows FROM bronze.orders "
    "UNION ALL SELECT 'silver.orders', count(*) FROM silver.orders "
    "UNION ALL SELECT 'quarantine.clean_orders', count(*) FROM quarantine.clean_orders "
    "UNION ALL SELECT 'gold.daily_revenue', count(*) FROM gold.daily_revenue");
  q("Quarantined rows by reason",
    "SELECT CASE WHEN starts_with(_reason, 'malformed') THEN 'malformed line' "
    "WHEN starts_with(_reason, 'cast: ') THEN split_part(_reason, ' value', 1) "
    "ELSE _reason END AS reason, count(*) AS rows FROM quarantine.clean_orders "
    "GROUP BY ALL ORDER BY rows DESC");
  q("Top revenue by country",
    "SELECT rank, country, orders, revenue FROM gold.country_revenue ORDER BY rank LIMIT 5");
  // What the workflow's check step judged, and what the catalog knows is sensitive.
  for (const auto& st : ws.metastore->Steps(run_id)) {
    if (st.kind != "check") continue;
    json out = json::parse(st.output, nullptr, false);
    std::cout << "\nData quality: silver.orders (checks/silver.orders.dqdl, one pass)\n";
    TextTable t{{"rule", "outcome", "observed"}, {}, {}};
    for (const auto& c : out.is_object() ? out.value("checks", json::array()) : json::array()) {
      std::string observed = c.value("observed", "");
      if (observed.size() > 40) observed = observed.substr(0, 37) + "...";
      t.rows.push_back({c.value("rule", ""), c.value("outcome", ""), observed});
    }
    t.Print();
  }
  std::cout << "\nSensitive data (detected by the crawler, masked by clean_orders)\n";
  TextTable pii{{"table", "column", "detected", "masked"}, {}, {}};
  for (const auto& name : {"bronze.orders", "silver.orders"}) {
    auto tn = project::TableName::Parse(name);
    auto tb = ws.metastore->GetTable(tn->db, tn->name);
    if (!tb) continue;
    for (const auto& [column, tags] : ws.metastore->ColumnTags(tb->id)) {
      auto entities = catalog::PiiEntities(tags);
      std::string masked = catalog::MaskedBy(tags);
      if (entities.empty() && masked.empty()) continue;
      pii.rows.push_back({name, column, Join(entities, ", "), masked});
    }
  }
  pii.Print();
  std::cout << fmt::format(
      "\nDone in {:.1f}s. Explore: cd {} && sluice catalog && sluice runs show {}\n"
      "Keep it flowing: `sluice serve` there, then `sluice ingest orders FILE` runs the workflow "
      "within milliseconds.\n",
      (MonotonicMs() - t0) / 1000.0, dir, run_id);
  return 0;
}

}  // namespace sluice::cli
