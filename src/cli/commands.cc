#include "cli/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "api/runs.h"
#include "api/tables.h"
#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "catalog/ingest.h"
#include "catalog/landing.h"
#include "catalog/pii_tags.h"
#include "catalog/query.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/exit_code.h"
#include "common/process.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "examples/empty.h"
#include "examples/retail.h"
#include "extract/extract.h"
#include "lake/zones.h"
#include "notify/notify.h"
#include "orchestrator/executor.h"
#include "orchestrator/workflow_resolve.h"
#include "transform/drop.h"
#include "transform/run.h"
#include "transform/validate.h"
#include "transform/workspace.h"
#include "warehouse/load.h"
#include "warehouse/model.h"

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

// Rows sent to the warehouse, on stderr, only on a terminal.
std::function<void(int64_t)> LoadProgress() {
  if (!StderrIsTerminal()) return nullptr;
  return [](int64_t rows) {
    std::fprintf(stderr, "\r  loading: %s rows", HumanCount(rows).c_str());
    std::fflush(stderr);
  };
}

// The checks that did not pass, a line each.
void PrintFailedChecks(const std::vector<meta::CheckResult>& checks) {
  for (const auto& c : checks) {
    if (c.outcome == "pass") continue;
    std::cout << fmt::format("  check {} ({}): {} - {}\n", c.outcome, c.on_fail, c.rule, c.message);
  }
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
    FailWithCode(ErrorKind::kUsage, "usage.file_exists",
                 "{} already holds a project (sluice.yaml); pick another folder", dir);
  }
  examples::WriteRetailProject(root);
  std::string data_note;
  if (sample_data) {
    auto files = examples::GenerateOrders(root, {3, 2000, 42});
    auto shop = examples::GenerateShopSources(root, {});
    data_note = fmt::format(
        ", {} sample files ({} orders) in data/orders/, a shop database with {} customers "
        "(data/shop.db) and {} pages of reviews an API would answer (data/reviews/)",
        files.files, HumanCount(files.rows), shop.customers, shop.review_pages);
  }
  std::cout << fmt::format("Created the {} project in {}{}.\n\nNext:\n", example, dir, data_note);
  std::cout << fmt::format("  cd {}\n", dir);
  std::cout << (sample_data ? "  sluice ingest orders data/orders\n"
                            : "  sluice ingest orders YOUR_ORDER_FILES...\n");
  if (sample_data) std::cout << "  sluice extract customers\n";
  std::cout << "  sluice crawl\n  sluice run --all\n"
               "  sluice query \"SELECT * FROM gold.country_revenue ORDER BY rank\"\n";
  if (sample_data) {
    std::cout << "\nThe reviews come from an API: serve the sample pages, then pull them (on "
                 "another port,\nset RETAIL_REVIEWS_API=http://127.0.0.1:PORT):\n"
                 "  python3 -m http.server 18766 --bind 127.0.0.1 --directory data/reviews "
                 "> /dev/null 2>&1 &\n"
                 "  sluice run shop_sync\n";
  }
  return 0;
}

int InitEmpty(const std::string& dir) {
  examples::WriteEmptyProject(dir);
  std::cout << fmt::format(
      "Created an empty project in {}: sluice.yaml says what goes where.\n\nNext:\n"
      "  cd {}\n"
      "  add a source in sources/, then sluice ingest SOURCE FILES... and sluice crawl\n",
      dir, dir);
  return 0;
}

int Validate(const Global& g, const std::string& format) {
  fs::path root = Root(g);
  project::Diagnostics diagnostics;
  transform::Workspace ws;
  project::DefinitionReader files(root);
  auto snapshot = project::LoadSnapshot(files, g.env, diagnostics);
  ws.project = snapshot.project();
  ws.workflows = snapshot.workflows();
  transform::Validate(ws.project, diagnostics);
  orchestrator::ValidateWorkflows(ws, diagnostics);
  project::CheckChannelSecrets(ws.project, diagnostics);
  project::CheckExtractSecrets(ws.project, diagnostics);
  orchestrator::CheckCommandSecrets(ws, diagnostics);
  const auto& project = ws.project;
  // Tables the catalog holds that nothing writes any more: warnings, never errors (a fresh
  // clone has no catalog to look at).
  std::vector<transform::OrphanTable> orphans;
  std::vector<std::string> starting_over;
  std::string unreadable_catalog;
  if (diagnostics.empty() &&
      (!project.env.metastore_uri.empty() || fs::exists(project.env.metastore))) {
    try {
      auto metastore = meta::Open(project::MetastoreUri(project.env));
      orphans = transform::OrphanTables(project, *metastore);
      starting_over = transform::JobsStartingOver(project, *metastore);
    } catch (const Error& e) {
      unreadable_catalog = fmt::format(
          "the catalog of environment {} could not be read to look for tables nothing writes: {}",
          g.env, e.what());
    }
  }
  std::vector<std::string> catalog_warnings;
  for (const auto& job : starting_over) {
    const auto& out = project.jobs.at(job).output;
    catalog_warnings.push_back(fmt::format(
        "job {} has no bookmarks, and {} already holds rows: its next run reads every landed file "
        "again{}\n  hint: if the job was renamed, run it once with --full-refresh to rebuild the "
        "table instead",
        job, out.table.str(),
        out.mode == "append" ? fmt::format(" and appends them to {} a second time", out.table.str())
                             : ""));
  }
  if (!unreadable_catalog.empty()) catalog_warnings.push_back(unreadable_catalog);
  auto orphan_text = [&](const transform::OrphanTable& o) {
    auto name = project::TableName::Parse(o.table);
    if (name && project::IsWarehouseModel(project, *name)) {
      return fmt::format(
          "{} is in the catalog, and its model runs in the warehouse now\n  hint: `sluice drop "
          "{}` removes the lake table (a destination it had is left in the warehouse)",
          o.table, o.table);
    }
    return fmt::format(
        "{} is in the catalog, and no {} of the project writes it any more\n  hint: `sluice "
        "drop {}` removes it (or restore its {})",
        o.table, o.kind == "model" ? "model" : "job", o.table, o.kind == "model" ? "model" : "job");
  };
  if (format == "json") {
    json problems = json::array();
    for (const auto& d : diagnostics.items()) {
      problems.push_back({{"file", d.where.file},
                          {"line", d.where.line},
                          {"column", d.where.column},
                          {"message", Redact(d.message)},
                          {"hint", d.hint},
                          {"code", d.code}});
    }
    json warnings = json::array();
    for (const auto& o : orphans) {
      warnings.push_back({{"table", o.table}, {"kind", o.kind}, {"message", orphan_text(o)}});
    }
    for (const auto& w : catalog_warnings) warnings.push_back({{"message", Redact(w)}});
    json out = {{"ok", diagnostics.empty()}, {"problems", problems}, {"warnings", warnings}};
    // The hash a run of these definitions records.
    if (diagnostics.empty()) out["snapshot"] = snapshot.Hash();
    PrintJson(out);
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
  for (const auto& o : orphans) std::cerr << "warning: " << orphan_text(o) << "\n";
  for (const auto& w : catalog_warnings) std::cerr << "warning: " << Redact(w) << "\n";
  return 0;
}

namespace {
const project::Source& FindSource(const transform::Workspace& ws, const std::string& name) {
  auto it = ws.project.sources.find(name);
  if (it != ws.project.sources.end()) return it->second;
  std::vector<std::string> names = SourceNames(ws);
  std::string near = Nearest(name, names);
  FailWithCode(ErrorKind::kUsage, "usage.unknown_source", "no source '{}' in the project{}", name,
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
                 const std::string& format, bool detailed_exitcode) {
  auto ws = Open(g);
  std::vector<const project::Source*> todo;
  if (sources.empty()) {
    for (const auto& [n, s] : ws.project.sources) todo.push_back(&s);
  } else {
    for (const auto& n : sources) todo.push_back(&FindSource(ws, n));
  }
  if (todo.empty() && format != "json") {
    std::cout << "nothing to crawl: the project has no sources yet (add one in sources/)\n";
  }
  engine::Database db;
  engine::Connection conn(db);
  json out = json::array();
  bool kept_out = false;
  for (const auto* s : todo) {
    auto r = catalog::Crawl(*s, transform::RecordSnapshot(ws), *ws.store, *ws.metastore, conn);
    kept_out = kept_out || r.kept_out();
    json q = json::array(), checks = json::array();
    json held = json::array();
    for (const auto& [key, reason] : r.quarantined) {
      q.push_back({{"file", key}, {"reason", reason}});
    }
    for (const auto& [key, reason] : r.held) held.push_back({{"file", key}, {"reason", reason}});
    for (const auto& c : r.checks) checks.push_back(api::CheckJson(c));
    out.push_back({{"source", r.source},
                   {"table", "bronze." + r.source},
                   {"run_id", r.run_id},
                   {"new_files", r.new_files},
                   {"registered", r.registered},
                   {"quarantined", q},
                   {"held", held},
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
    for (const auto& [key, reason] : r.held) {
      std::cout << fmt::format("  held file {}: {}\n", key, reason);
    }
    if (!r.held.empty()) {
      std::cout << "  (held by a check or the source's policy: `sluice landing release KEY` "
                   "crawls one again once they let it in)\n";
    }
    PrintFailedChecks(r.checks);
  }
  if (format == "json") PrintJson(out);
  return DoneExitCode(detailed_exitcode, kept_out);
}

int Run(const Global& g, const std::vector<std::string>& names, bool all, bool full_refresh,
        const std::optional<std::string>& partitions, const std::string& format,
        bool detailed_exitcode) {
  std::optional<transform::PartitionRange> range;
  if (partitions) range = transform::ParsePartitionRange(*partitions);
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
      FailWithCode(ErrorKind::kUsage, "usage.unknown_name",
                   "no workflow, job or model named '{}'{}", name,
                   near.empty() ? "" : fmt::format("; did you mean '{}'?", near));
    }
    wanted.insert(static_cast<size_t>(i));
  }
  if (dag.nodes.empty() && format != "json") {
    std::cout << "nothing to run: the project has no jobs or models yet (add them in jobs/ and "
                 "models/)\n";
  }
  if (range && (all || wanted.size() != 1 || dag.nodes[*wanted.begin()].kind != "job")) {
    FailWithCode(ErrorKind::kUsage, "usage.partitions",
                 "--partitions backfills one job: name it alone (a model rebuilds its whole "
                 "table on every run)");
  }
  // A warehouse setting that cannot be used stops the command before anything runs whose table
  // it would load, not after.
  for (size_t i : dag.order) {
    if (!all && !wanted.count(i)) continue;
    const auto& node = dag.nodes[i];
    if (warehouse::UsesWarehouse(ws.project, node.kind,
                                 node.kind == "job" ? node.name : node.output.str())) {
      warehouse::RequireSettings(ws.project.env);
    }
  }
  auto options = Progress();
  options.full_refresh = full_refresh;
  options.partitions = range;
  json out = json::array();
  std::optional<int> failed;
  bool kept_out = false;
  std::map<size_t, std::string> waiting;
  if (all) waiting = transform::WaitingForSources(dag, ws.project, *ws.metastore);
  for (size_t i : dag.order) {
    if (!all && !wanted.count(i)) continue;
    const auto& node = dag.nodes[i];
    if (auto it = waiting.find(i); it != waiting.end()) {
      kept_out = true;  // something to look at (exit 4 with --detailed-exitcode)
      if (format != "json") {
        std::cout << fmt::format("{} {}: skipped: {}\n", node.kind, node.name, it->second);
      }
      out.push_back({{"kind", node.kind},
                     {"name", node.name},
                     {"status", "skipped"},
                     {"reason", it->second}});
      continue;
    }
    try {
      auto report = node.kind == "job"
                        ? transform::RunJob(ws, ws.project.jobs.at(node.name), options)
                        : warehouse::RunAnyModel(ws, ws.project.models.at(node.output), options);
      ClearProgress();
      kept_out = kept_out || report.kept_out();
      json entry = api::ReportJson(report);
      if (format != "json") PrintReport(report);
      // Its destination, if any: a failed load fails the command (the run stays published; its
      // next run, or `sluice load`, makes the load good).
      std::string name = node.kind == "job" ? node.name : node.output.str();
      try {
        if (auto load = warehouse::LoadDestination(ws, node.kind, name, LoadProgress())) {
          ClearProgress();
          entry["load"] = api::LoadJson(*load);
          if (format != "json") {
            std::cout << "  warehouse: " << load->message << "\n";
            for (const auto& c : load->changes) {
              std::cout << "  warehouse: " << load->target << ": " << c << "\n";
            }
          }
        }
      } catch (const Error& e) {
        ClearProgress();
        std::cerr << fmt::format(
            "error[{}]: {} {} ran, but loading its destination failed: {}\n  hint: nothing was "
            "applied in the warehouse; once the cause is fixed, `sluice {}load {}` (or the next "
            "run) loads it\n",
            e.shown_code(), node.kind, node.name, Redact(e.what()),
            g.env == "dev" ? "" : "--env " + g.env + " ", report.output);
        entry["load"] = {{"status", "failed"},
                         {"error_kind", ErrorKindName(e.kind())},
                         {"error_code", e.shown_code()},
                         {"error", Redact(e.what())}};
        out.push_back(entry);
        failed = ExitCodeFor(e.kind());
        break;
      }
      out.push_back(entry);
    } catch (const Error& e) {
      ClearProgress();
      // With a stable code, as main prints errors: error[publish.conflict]: job x failed: ...
      std::cerr << fmt::format("error[{}]: {} {} failed: {}\n", e.shown_code(), node.kind,
                               node.name, Redact(e.what()));
      out.push_back({{"kind", node.kind},
                     {"name", node.name},
                     {"status", "failed"},
                     {"error_kind", ErrorKindName(e.kind())},
                     {"error_code", e.shown_code()},
                     {"error", Redact(e.what())}});
      failed = ExitCodeFor(e.kind());
      break;
    }
  }
  if (format == "json") PrintJson(out);
  return failed ? *failed : DoneExitCode(detailed_exitcode, kept_out);
}

int Extract(const Global& g, const std::string& source, bool full_refresh,
            const std::string& format) {
  auto ws = Open(g);
  extract::ExtractOptions options;
  options.full_refresh = full_refresh;
  if (StderrIsTerminal()) {
    options.progress = [](int64_t records) {
      std::fprintf(stderr, "\r  extracting: %s records", HumanCount(records).c_str());
      std::fflush(stderr);
    };
  }
  auto report = extract::ExtractSource(ws, source, options);
  ClearProgress();
  if (format == "json") {
    PrintJson(api::ExtractJson(report));
    return 0;
  }
  std::cout << report.message << "\n";
  return 0;
}

int Load(const Global& g, const std::string& table, const LoadArgs& args,
         const std::string& format) {
  auto ws = Open(g);
  warehouse::LoadRequest request;
  request.table = CatalogTable(ws, table);
  request.version = args.version;
  project::Destination given;
  if (!args.to.empty()) {
    size_t dot = args.to.find('.');
    if (dot == std::string::npos || args.to.find('.', dot + 1) != std::string::npos) {
      FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                   "--to '{}' is not SCHEMA.TABLE (e.g. analytics.orders)", args.to);
    }
    given.schema = args.to.substr(0, dot);
    given.table = args.to.substr(dot + 1);
  }
  if (!args.mode.empty()) given.mode = project::ParseLoadMode(args.mode);
  given.key = args.key;
  given.delete_missing = args.delete_missing;
  request.destination = project::ResolveDestination(ws.project, request.table, given);
  request.progress = LoadProgress();
  auto wh = warehouse::Open(ws.project.env);
  auto result = warehouse::Load(ws, *wh, request);
  ClearProgress();
  if (format == "json") {
    PrintJson(api::LoadJson(result));
    return 0;
  }
  std::cout << result.message << "\n";
  for (const auto& c : result.changes) std::cout << "  " << result.target << ": " << c << "\n";
  return 0;
}

int Query(const Global& g, const std::string& sql, const std::string& format, int64_t max_rows,
          bool on_warehouse) {
  auto ws = Open(g);
  project::QuerySettings limits = ws.project.query;
  if (max_rows >= 0) limits.max_rows = max_rows;
  if (on_warehouse) {
    auto wh = warehouse::Open(ws.project.env);
    auto answer = wh->ReadQuery(sql, limits.timeout_ms, limits.max_rows);
    PrintRows(answer.columns, answer.numeric, answer.rows, format);
    return 0;
  }
  catalog::RunQuery(*ws.metastore, *ws.store, sql, limits, SourceNames(ws),
                    [&](engine::Result& result) { PrintResult(result, format); });
  return 0;
}

namespace {
// The catalog's table named `table` (db.table): usage errors for a bad or unknown name.
meta::Table CatalogTable(meta::Metastore& m, const std::string& table) {
  auto name = project::TableName::Parse(table);
  if (!name)
    FailWithCode(ErrorKind::kUsage, "usage.table_name", "'{}' is not a table name; write db.table",
                 table);
  auto tb = m.GetTable(name->db, name->name);
  if (!tb) {
    std::vector<std::string> names;
    for (const auto& t : m.ListTables()) names.push_back(t.full_name());
    std::string near = Nearest(table, names);
    FailWithCode(ErrorKind::kUsage, "usage.unknown_table", "no table {} in the catalog{}", table,
                 near.empty() ? "" : fmt::format("; did you mean '{}'?", near));
  }
  return *tb;
}

std::string ColumnList(const json& columns, const char* sign) {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    out.push_back(
        fmt::format("{}{} {}", sign, c["name"].get<std::string>(), c["type"].get<std::string>()));
  }
  return Join(out, ", ");
}
}  // namespace

int CatalogVersions(const Global& g, const std::string& table, const std::string& format) {
  auto ws = Open(g);
  auto tb = CatalogTable(*ws.metastore, table);
  json out = api::TableVersionsJson(*ws.metastore, tb);
  if (format == "json") {
    PrintJson(out);
    return 0;
  }
  std::cout << fmt::format("{}: {} version{} kept (current: {})\n", tb.full_name(), out.size(),
                           out.size() == 1 ? "" : "s", tb.version);
  for (const auto& v : out) {
    int64_t run_id = v["run_id"];
    std::cout << fmt::format("\nversion {}  {}{}\n  {}\n", v["version"].get<int64_t>(),
                             v["created_at"].get<std::string>(),
                             run_id ? fmt::format("  run {}", run_id) : "",
                             v["change"].get<std::string>());
    if (v.value("after_vacuum", false)) {
      std::cout << "  (the versions before it were vacuumed: compared with nothing)\n";
    }
    std::cout << fmt::format(
        "  files +{} -{}: {} file{}, {}{}\n", v["files_added"].get<int64_t>(),
        v["files_removed"].get<int64_t>(), v["files"].get<int64_t>(),
        v["files"].get<int64_t>() == 1 ? "" : "s", HumanBytes(v["bytes"].get<uint64_t>()),
        v["rows"].is_null() ? "" : fmt::format(", {} rows", HumanCount(v["rows"].get<int64_t>())));
    std::vector<std::string> columns;
    if (!v["columns_added"].empty()) columns.push_back(ColumnList(v["columns_added"], "+"));
    if (!v["columns_removed"].empty()) columns.push_back(ColumnList(v["columns_removed"], "-"));
    for (const auto& c : v["columns_retyped"]) {
      columns.push_back(fmt::format("{} {} -> {}", c["name"].get<std::string>(),
                                    c["from"].get<std::string>(), c["to"].get<std::string>()));
    }
    std::cout << "  columns: " << (columns.empty() ? "unchanged" : Join(columns, ", ")) << "\n";
  }
  return 0;
}

int Catalog(const Global& g, const std::string& table, const std::string& format) {
  auto ws = Open(g);
  auto& m = *ws.metastore;
  if (table.empty()) {
    json out = api::TableListJson(m);
    if (format == "json") {
      PrintJson(out);
    } else if (out.empty()) {
      std::cout << "The catalog is empty: land files with `sluice ingest`, then `sluice crawl`.\n";
    } else {
      TextTable t{{"table", "kind", "format", "version", "files", "columns", "updated"},
                  {false, false, false, true, true, true, false},
                  {}};
      for (const auto& tb : out) {
        t.rows.push_back({tb["table"], tb["kind"], tb["format"], tb["version"].dump(),
                          tb["files"].dump(), tb["columns"].dump(), tb["updated_at"]});
      }
      t.Print();
    }
    return 0;
  }
  auto tb = CatalogTable(m, table);
  json out = api::TableJson(m, tb, ws.store->Uri(lake::zones::TablePrefix(tb.db, tb.name)));
  if (format == "json") {
    PrintJson(out);
    return 0;
  }
  int64_t files = out["files"];
  std::cout << fmt::format("{} ({} {}), version {}, {} file{}, {}\n  at {}\n\n",
                           out["table"].get<std::string>(), out["kind"].get<std::string>(),
                           out["format"].get<std::string>(), tb.version, files,
                           files == 1 ? "" : "s", HumanBytes(out["bytes"].get<uint64_t>()),
                           out["location"].get<std::string>());
  TextTable cols{{"column", "type", "", "sensitive data"}, {}, {}};
  for (const auto& c : out["columns"]) {
    std::vector<std::string> found;
    for (const auto& t : c["pii_detail"].is_array() ? c["pii_detail"] : json::array()) {
      std::string entity = t.value("entity", "");
      if (t.contains("masked")) {
        found.push_back(entity.empty()
                            ? fmt::format("masked ({})", t.value("masked", ""))
                            : fmt::format("{}, masked ({})", entity, t.value("masked", "")));
      } else {
        found.push_back(fmt::format("{} ({:.0f}%)", entity, t.value("confidence", 0.0) * 100));
      }
    }
    cols.rows.push_back(
        {c["name"], c["type"], c["partition"].get<bool>() ? "partition" : "", Join(found, ", ")});
  }
  cols.Print();
  if (!out["partitions"].empty()) {
    std::cout << "\n";
    TextTable parts{{"partition", "files", "size"}, {false, true, true}, {}};
    for (const auto& p : out["partitions"]) {
      parts.rows.push_back({p["partition"], p["files"].dump(), HumanBytes(p["bytes"])});
    }
    parts.Print();
  }
  std::cout << "\n";
  TextTable vers{{"version", "created", "run", "change"}, {true, false, true, false}, {}};
  for (const auto& v : out["versions"]) {
    int64_t run_id = v["run_id"];
    vers.rows.push_back(
        {v["version"].dump(), v["created_at"], run_id ? std::to_string(run_id) : "", v["change"]});
  }
  vers.Print();
  for (const char* state : {"quarantined", "held"}) {
    bool header = false;
    for (const auto& q : out["quarantined_files"]) {
      if (q.value("state", "") != state) continue;
      if (!header) {
        std::cout << (std::string(state) == "held"
                          ? "\nheld files (kept out by a check or the source's policy; "
                            "`sluice landing release KEY` crawls one again):\n"
                          : "\nquarantined files (kept out of the table):\n");
        header = true;
      }
      std::cout << "  " << q["file"].get<std::string>() << ": " << q["reason"].get<std::string>()
                << "\n";
    }
  }
  return 0;
}

namespace {
json LandingJson(const catalog::LandingEntry& e) {
  json out = {{"key", e.key},
              {"source", e.source},
              {"state", meta::ToString(e.state)},
              {"size", e.size},
              {"landed_at", e.landed_ms ? json(Time(e.landed_ms)) : json(nullptr)},
              {"reason", e.reason}};
  if (e.state == meta::LandingState::kRemoved) {
    out["removed_by"] = e.removed_by;
    out["removed_at"] = Time(e.removed_ms);
    out["moved_to"] = e.moved_to;
  }
  return out;
}
}  // namespace

int LandingList(const Global& g, const std::string& source, std::optional<meta::LandingState> state,
                const std::string& format) {
  auto ws = Open(g);
  std::vector<std::string> sources;
  if (!source.empty()) {
    sources.push_back(FindSource(ws, source).name);
  } else {
    for (const auto& [name, s] : ws.project.sources) sources.push_back(name);
  }
  std::vector<catalog::LandingEntry> entries;
  for (const auto& s : sources) {
    auto some = catalog::ListLanding(s, state, *ws.store, *ws.metastore);
    entries.insert(entries.end(), some.begin(), some.end());
  }
  if (format == "json") {
    json out = json::array();
    for (const auto& e : entries) out.push_back(LandingJson(e));
    PrintJson(out);
    return 0;
  }
  if (entries.empty()) {
    std::cout << "No landed files" << (state ? fmt::format(" {}", ToString(*state)) : "")
              << ": land some with `sluice ingest SOURCE PATH`.\n";
    return 0;
  }
  TextTable t{{"key", "source", "state", "size", "landed", "reason"},
              {false, false, false, true, false, false},
              {}};
  for (const auto& e : entries) {
    std::string reason = e.reason;
    if (e.state == meta::LandingState::kRemoved) {
      reason = fmt::format("by {} at {}: {}", e.removed_by, Time(e.removed_ms), e.reason);
    }
    t.rows.push_back({catalog::Visible(e.key), e.source, meta::ToString(e.state),
                      HumanBytes(e.size), e.landed_ms ? Time(e.landed_ms) : "",
                      catalog::Visible(reason)});
  }
  t.Print();
  return 0;
}

int LandingRelease(const Global& g, const std::string& key, const std::string& format) {
  std::string source = catalog::SourceOfKey(key);
  auto ws = Open(g);
  const auto& s = FindSource(ws, source);
  engine::Database db;
  engine::Connection conn(db);
  auto r =
      catalog::ReleaseLanded(s, key, transform::RecordSnapshot(ws), *ws.store, *ws.metastore, conn);
  bool kept_out = r.now != meta::LandingState::kRegistered;
  if (format == "json") {
    PrintJson({{"key", key},
               {"source", source},
               {"was", meta::ToString(r.was)},
               {"state", meta::ToString(r.now)},
               {"reason", r.reason},
               {"run_id", r.report.run_id},
               {"version", r.report.version},
               {"schema_change", r.report.schema_change}});
  } else if (kept_out) {
    std::cout << fmt::format("{} is {} again, in bronze.{} version {}: {}\n", key,
                             meta::ToString(r.now), source, r.report.version, r.reason);
  } else {
    std::cout << fmt::format("released {}: registered in bronze.{}, version {}\n", key, source,
                             r.report.version);
    if (!r.report.schema_change.empty()) {
      std::cout << "  schema: " << r.report.schema_change << "\n";
    }
  }
  PrintFailedChecks(r.report.checks);
  return kept_out ? kExitChanges : 0;
}

int LandingRemove(const Global& g, const std::string& key, const std::string& reason,
                  const std::string& format) {
  std::string source = catalog::SourceOfKey(key);
  auto ws = Open(g);
  FindSource(ws, source);
  auto r =
      catalog::RemoveLanded(source, key, reason, catalog::CurrentUser(), *ws.store, *ws.metastore);
  if (format == "json") {
    PrintJson({{"key", key},
               {"source", source},
               {"was", meta::ToString(r.was)},
               {"removed_by", r.removal.removed_by},
               {"removed_at", Time(r.removal.removed_ms)},
               {"reason", r.removal.reason},
               {"moved_to", r.removal.moved_to},
               {"version", r.version ? json(r.version) : json(nullptr)}});
    return 0;
  }
  std::cout << fmt::format("removed {} ({}) by {}: {}\n", key, meta::ToString(r.was),
                           r.removal.removed_by, r.removal.reason);
  std::cout << fmt::format("  its bytes are at {}\n", r.removal.moved_to);
  if (r.version) {
    std::cout << fmt::format(
        "  bronze.{} version {} no longer holds it; rows jobs already published from it stay "
        "until the jobs rebuild them (sluice run JOB --full-refresh, or --partitions for "
        "theirs)\n",
        source, r.version);
  }
  std::cout << "  the same name may land again\n";
  return 0;
}

int Runs(const Global& g, const meta::RunFilter& filter, const std::string& format) {
  auto ws = Open(g);
  auto runs = ws.metastore->ListRuns(filter);
  if (format == "json") {
    json out = json::array();
    for (const auto& r : runs) out.push_back(api::RunJson(r));
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
    t.rows.push_back({std::to_string(r.id), r.kind, r.name, meta::ToString(r.status),
                      Time(r.started_ms), r.ended_ms ? Duration(r.ended_ms - r.started_ms) : "",
                      HumanCount(r.rows_in), HumanCount(r.rows_out), HumanCount(r.rows_quarantined),
                      error});
  }
  t.Print();
  return 0;
}

int RunsShow(const Global& g, int64_t id, const std::string& format) {
  auto ws = Open(g);
  auto run = ws.metastore->GetRun(id);
  if (!run)
    FailWithCode(ErrorKind::kUsage, "usage.unknown_run", "no run {}; `sluice runs` lists them", id);
  if (format == "json") {
    PrintJson(*api::RunDetailJson(*ws.metastore, id));
    return 0;
  }
  auto steps = ws.metastore->RunSteps(id);
  auto checks = ws.metastore->CheckResults(id);
  std::cout << fmt::format("run {}: {} {} {}\n", run->id, run->kind, run->name,
                           meta::ToString(run->status));
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
      FailWithCode(ErrorKind::kUsage, "usage.file_exists",
                   "{} exists and is not a Sluice demo folder; pick another folder", dir);
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
  auto channels = notify::Channels(ws.project);
  auto shared = std::make_shared<transform::Workspace>(ws);
  int64_t run_id = orchestrator::Enqueue(*ws.metastore, ws.workflows.at("orders"), "demo", {}, 0,
                                         transform::RecordSnapshot(ws));
  ws.metastore->ClaimRun(run_id, ProcessOwner());
  meta::RunStatus status =
      ExecuteHere(shared, run_id, std::move(channels), [&](const meta::LogLine& l) {
        if (l.level != "info" || l.message.find(" succeeded in ") == std::string::npos) return;
        if (l.step.empty() || l.step == "parallel" || l.step == "choice") return;
        step(fmt::format("workflow orders [{}] {}", l.step, l.message));
      });
  if (status != meta::RunStatus::kSucceeded) {
    Fail(ErrorKind::kInternal, "the demo workflow run {} {}: {}", run_id, meta::ToString(status),
         ws.metastore->GetRun(run_id)->error);
  }
  auto q = [&](const std::string& title, const std::string& sql) {
    std::cout << "\n" << title << "\n";
    catalog::RunQuery(*ws.metastore, *ws.store, sql, ws.project.query, SourceNames(ws),
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
