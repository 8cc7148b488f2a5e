// sluice: the command line. Parses arguments and hands over to commands.cc.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "common/redact.h"
#include "common/strings.h"

namespace {

constexpr const char* kFormats[] = {"table", "json"};

void AddFormat(CLI::App* cmd, std::string& format, bool csv = false) {
  auto* opt = cmd->add_option("--format", format,
                              csv ? "Output: table, csv or json" : "Output: table or json");
  opt->default_str("table");
  if (csv) {
    opt->check(CLI::IsMember({"table", "csv", "json"}));
  } else {
    opt->check(CLI::IsMember({kFormats[0], kFormats[1]}));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  CLI::App app{
      "Sluice: a self-hosted data platform in one program: a lake, a catalog, jobs, "
      "models, checks and SQL.\nStart with `sluice init shop` or `sluice demo`.",
      "sluice"};
  app.set_version_flag("--version", "sluice 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();  // -C and --env work after the command too: `sluice validate --env prod`
  cli::Global g;
  app.add_option("-C", g.dir,
                 "Run as if started in DIR (the project is the nearest folder "
                 "upward holding sluice.yaml)")
      ->option_text("DIR");
  app.add_option("--env", g.env, "Environment from sluice.yaml")->default_str("dev");

  std::string format = "table";

  std::string init_dir, example = "retail";
  bool no_data = false, empty = false;
  auto* init = app.add_subcommand("init", "Create a project that runs as is, with sample data");
  init->add_option("DIR", init_dir, "Folder to create")->required();
  auto* example_opt =
      init->add_option("--example", example, "Example project")->check(CLI::IsMember({"retail"}));
  auto* no_data_opt = init->add_flag("--no-data", no_data, "Leave out the sample data files");
  init->add_flag("--empty", empty, "A blank project: sluice.yaml and empty folders")
      ->excludes(example_opt)
      ->excludes(no_data_opt);

  auto* validate = app.add_subcommand("validate", "Check every project file; print all problems");
  AddFormat(validate, format);

  std::string source;
  std::vector<std::string> paths;
  auto* ingest = app.add_subcommand(
      "ingest", "Land files (or folders, keeping relative paths) in a source's landing zone");
  ingest->add_option("SOURCE", source, "Source name")->required();
  ingest->add_option("PATH", paths, "Files or folders")->required();
  AddFormat(ingest, format);

  std::vector<std::string> sources;
  auto* crawl = app.add_subcommand("crawl", "Catalog new landed files as bronze.<source>");
  crawl->add_option("SOURCE", sources, "Sources to crawl (default: all)");
  AddFormat(crawl, format);
  bool detailed_exitcode = false;
  const char* detailed_help =
      "Exit 4 when done but something was kept out (files quarantined or held, rows "
      "quarantined); 0 when everything flowed";
  crawl->add_flag("--detailed-exitcode", detailed_exitcode, detailed_help);

  std::vector<std::string> names;
  bool all = false;
  std::vector<std::string> params;
  auto* run = app.add_subcommand("run", "Run a workflow, or jobs and models");
  run->add_option("NAME", names,
                  "A workflow, a job name, or a model table such as gold.daily_revenue");
  run->add_flag("--all", all, "Every job and model, in dependency order");
  run->add_option("--param", params, "A workflow parameter NAME=VALUE (repeatable)");
  run->add_flag("--detailed-exitcode", detailed_exitcode, detailed_help);
  bool full_refresh = false;
  run->add_flag("--full-refresh", full_refresh,
                "Jobs read every landed file again, whatever their bookmarks, and rebuild their "
                "output from them alone; incremental models rebuild their table whole");
  std::string partitions;
  run->add_option("--partitions", partitions,
                  "Backfill: recompute the output partitions in this range, e.g. "
                  "'dt>=2026-01-01 and dt<2026-02-01', and replace exactly those (jobs whose "
                  "partition_by covers the named columns)");
  AddFormat(run, format);

  std::string sql;
  auto* query = app.add_subcommand("query", "Run read-only SQL over every catalog table");
  query->add_option("SQL", sql, "A SELECT; tables are db.table, e.g. silver.orders")->required();
  int64_t max_rows = -1;
  query
      ->add_option("--max-rows", max_rows,
                   "Refuse an answer of more rows than this (default: query: max_rows in "
                   "sluice.yaml, 100000; 0 lifts the limit)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000'000'000}).description(""));
  bool query_warehouse = false;
  query->add_flag("--warehouse", query_warehouse,
                  "Run it on the environment's warehouse instead (one read-only SELECT, in the "
                  "warehouse's SQL dialect)");
  AddFormat(query, format, true);

  std::string extract_source;
  bool extract_full_refresh = false;
  auto* extract = app.add_subcommand(
      "extract",
      "Pull what a source's extractor (extract: in sources/NAME.yaml) has that is new into "
      "landing/NAME/, exactly once");
  extract->add_option("SOURCE", extract_source, "A source with extract:")->required();
  extract->add_flag("--full-refresh", extract_full_refresh,
                    "Start over from the initial_value (or everything): the records land again");
  AddFormat(extract, format);

  std::string table;
  cli::LoadArgs load_args;
  auto* load = app.add_subcommand(
      "load", "Load a catalog table into the warehouse (once per version; see docs/warehouse.md)");
  load->add_option("TABLE", table, "db.table of the catalog")->required();
  load->add_option("--to", load_args.to,
                   "The warehouse table, SCHEMA.TABLE (default: its destination, else db.table)");
  load->add_option("--mode", load_args.mode, "append, overwrite or merge (default: the output's)")
      ->check(CLI::IsMember({"append", "overwrite", "merge"}));
  load->add_option("--key", load_args.key, "A merge key column (repeat for several)");
  load->add_flag("--delete-missing", load_args.delete_missing,
                 "merge: delete warehouse rows whose key the table no longer holds");
  load->add_option("--version", load_args.version,
                   "The catalog version to load (default: the current one)");
  AddFormat(load, format);

  auto* catalog = app.add_subcommand("catalog", "List tables, or show one table");
  catalog->add_option("TABLE", table, "db.table to show");
  bool versions = false;
  catalog->add_flag("--versions", versions,
                    "What each version of TABLE changed: files in and out, rows, columns");
  AddFormat(catalog, format);

  meta::RunFilter filter;
  filter.limit = 20;
  std::string status_filter;
  auto* runs = app.add_subcommand("runs", "The run log: newest first");
  runs->add_option("--limit", filter.limit, "How many runs")->default_str("20");
  runs->add_option("--status", status_filter,
                   "Only runs with this status (queued, running, succeeded, failed, cancelled)")
      ->check(CLI::IsMember({"queued", "running", "succeeded", "failed", "cancelled"}));
  runs->add_option(
      "--kind", filter.kind,
      "Only runs of this kind (workflow, job, model, crawl, extract, landing, drop, vacuum)");
  runs->add_option("--name", filter.name, "Only runs of this workflow, job, model or source");
  std::string trigger_kind_filter;
  runs->add_option("--trigger-kind", trigger_kind_filter,
                   "Only runs started this way (manual, api, arrival, schedule, after, parent)")
      ->check(CLI::IsMember(meta::TriggerKindWords()));
  AddFormat(runs, format);
  int64_t run_id = 0;
  auto* show = runs->add_subcommand("show", "One run with its steps and check results");
  show->add_option("RUN_ID", run_id, "Run id")->required();
  AddFormat(show, format);

  bool follow = false;
  auto* logs = app.add_subcommand("logs", "A run's log lines");
  logs->add_option("RUN_ID", run_id, "Run id")->required();
  logs->add_flag("-f,--follow", follow, "Keep printing new lines until the run ends");
  AddFormat(logs, format);

  auto* cancel = app.add_subcommand("cancel", "Cancel a queued or running workflow run");
  cancel->add_option("RUN_ID", run_id, "Run id")->required();
  AddFormat(cancel, format);

  bool retry_latest = false;
  auto* retry = app.add_subcommand(
      "retry",
      "Run a failed workflow run again from its failed steps, in the foreground, on the "
      "definitions it ran");
  retry->add_option("RUN_ID", run_id, "Run id")->required();
  retry->add_flag("--latest", retry_latest,
                  "Run the failed steps with the project's current definitions instead (the run "
                  "records them); steps that succeeded stay done");
  AddFormat(retry, format);

  std::string listen = "127.0.0.1:8686", rescan = "10s", grace = "30s";
  int workers = 4;
  auto* serve = app.add_subcommand(
      "serve", "Run triggers, workers and the HTTP API until stopped (SIGHUP reloads)");
  serve->add_option("--listen", listen, "HOST:PORT of the HTTP API")->default_str(listen);
  serve->add_option("--workers", workers, "Runs executed at once")->default_str("4");
  serve->add_option("--rescan", rescan, "How often landing folders are listed as a safety net")
      ->default_str(rescan);
  serve->add_option("--grace", grace, "On SIGTERM, how long running steps may take to finish")
      ->default_str(grace);

  std::string token_name;
  auto* token = app.add_subcommand("token", "API tokens for `sluice serve`: create, list, revoke");
  token->require_subcommand(1);
  auto* token_create =
      token->add_subcommand("create", "Create a token; its secret is printed once, only here");
  token_create->add_option("NAME", token_name, "Token name (who or what uses it)")->required();
  auto* token_list = token->add_subcommand("list", "Tokens with their creation and last use");
  AddFormat(token_list, format);
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token at once");
  token_revoke->add_option("NAME", token_name, "Token name")->required();

  std::string landing_source, landing_state, landing_key, landing_reason;
  auto* landing = app.add_subcommand(
      "landing", "Landed files and their states: list, release (crawl again), remove");
  landing->require_subcommand(1);
  auto* landing_list = landing->add_subcommand(
      "list", "Every landed file: key, source, state, size, landed time, reason");
  landing_list->add_option("SOURCE", landing_source, "Only this source's files");
  landing_list
      ->add_option("--state", landing_state,
                   "Only files in this state (waiting, held, registered, quarantined, removed)")
      ->check(CLI::IsMember({"waiting", "held", "registered", "quarantined", "removed"}));
  AddFormat(landing_list, format);
  auto* landing_release = landing->add_subcommand(
      "release", "Crawl a held or quarantined file again, under the source's current policy");
  landing_release->add_option("KEY", landing_key, "Landing key, as `landing list` prints it")
      ->required();
  AddFormat(landing_release, format);
  auto* landing_remove = landing->add_subcommand(
      "remove", "Take a wrongly landed file out (recorded with who, when and why)");
  landing_remove->add_option("KEY", landing_key, "Landing key, as `landing list` prints it")
      ->required();
  landing_remove->add_option("--reason", landing_reason, "Why it is taken out")->required();
  AddFormat(landing_remove, format);

  std::string drop_table;
  bool drop_yes = false;
  auto* drop = app.add_subcommand("drop", "Remove a table from the catalog and the lake");
  drop->add_option("TABLE", drop_table, "db.table")->required();
  drop->add_flag("--yes", drop_yes, "Do not ask for its name to confirm");
  AddFormat(drop, format);

  std::string retain = "7d";
  bool vacuum_yes = false, vacuum_dry_run = false;
  auto* vacuum = app.add_subcommand(
      "vacuum", "Remove table versions older than the retention and files no version lists");
  vacuum->add_option("--retain", retain, "Keep versions younger than this (e.g. 7d, 12h, 0s)")
      ->default_str("7d");
  vacuum->add_flag("--yes", vacuum_yes, "Remove them (without it, only list what would go)");
  vacuum->add_flag("--dry-run", vacuum_dry_run, "Only list what would go, and say so");
  AddFormat(vacuum, format);

  auto* metastore = app.add_subcommand(
      "metastore",
      "The metastore: its schema (status, migrate), moving it to another database (export, "
      "import)");
  metastore->require_subcommand(1);
  auto* metastore_status = metastore->add_subcommand(
      "status", "The metastore's backend, and its schema version against this sluice's");
  AddFormat(metastore_status, format);
  auto* metastore_migrate = metastore->add_subcommand(
      "migrate", "Bring the metastore's schema to this sluice's version (one transaction)");
  AddFormat(metastore_migrate, format);
  std::string metastore_file;
  auto* metastore_export = metastore->add_subcommand(
      "export", "Write the whole metastore (catalog, history, tokens, ...) to an NDJSON file");
  metastore_export->add_option("FILE", metastore_file, "The file to write")->required();
  AddFormat(metastore_export, format);
  auto* metastore_import = metastore->add_subcommand(
      "import", "Load an export into this environment's metastore, which must be empty");
  metastore_import->add_option("FILE", metastore_file, "A file `metastore export` wrote")
      ->required();
  AddFormat(metastore_import, format);

  std::string rules_file;
  auto* check =
      app.add_subcommand("check", "Evaluate a table's DQDL rules (exit 3 when one fails)");
  check->add_option("TABLE", table, "db.table")->required();
  check->add_option("--rules", rules_file, "A DQDL rule file (default: checks/<db>.<table>.dqdl)");
  AddFormat(check, format);

  size_t quality_runs = 10;
  auto* quality = app.add_subcommand("quality", "A table's rule results over its last runs");
  quality->add_option("TABLE", table, "db.table")->required();
  quality->add_option("--runs", quality_runs, "How many runs")->default_str("10");
  AddFormat(quality, format);

  std::string suggest;
  auto* profile = app.add_subcommand("profile", "Per-column statistics of a table");
  profile->add_option("TABLE", table, "db.table")->required();
  profile->add_option(
      "--suggest", suggest,
      "Also write a starting DQDL rule set to FILE (e.g. checks/silver.orders.dqdl)");
  AddFormat(profile, format);

  std::string demo_dir = "sluice-demo";
  int days = 7;
  int64_t rows_per_day = 143000;
  auto* demo = app.add_subcommand(
      "demo", "Build the retail example with a million generated orders and run it end to end");
  demo->add_option("DIR", demo_dir, "Folder for the demo project")->default_str("sluice-demo");
  demo->add_option("--days", days, "Daily files to generate")->default_str("7");
  demo->add_option("--rows-per-day", rows_per_day, "Orders per file")->default_str("143000");

  // An unknown command gets a name and a suggestion, not "a subcommand is required".
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-C" || arg == "--env") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      commands.push_back(sub->get_name());
    }
    if (std::find(commands.begin(), commands.end(), arg) == commands.end()) {
      std::string near = Nearest(arg, commands);
      std::cerr << "sluice: unknown command '" << arg << "'"
                << (near.empty() ? "" : "; did you mean '" + near + "'?") << "\n"
                << "Commands: " << Join(commands, ", ") << "\nRun `sluice --help` for more.\n";
      return 2;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  InstallInterruptHandler();
  cli::RedactStandardStreams();
  try {
    if (*init) return empty ? cli::InitEmpty(init_dir) : cli::Init(init_dir, example, !no_data);
    if (*validate) return cli::Validate(g, format);
    if (*ingest) return cli::IngestFiles(g, source, paths, format);
    if (*crawl) return cli::CrawlSources(g, sources, format, detailed_exitcode);
    if (*run) {
      if (all == !names.empty()) {
        FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                     "sluice run: name a workflow, jobs or models, or pass --all (not both)");
      }
      if (!all && names.size() == 1 && cli::IsWorkflow(g, names[0])) {
        if (full_refresh || run->count("--partitions")) {
          FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                       "sluice run: {} is for {}; run the job with it, then the workflow",
                       full_refresh ? "--full-refresh" : "--partitions",
                       full_refresh ? "jobs and models" : "jobs");
        }
        return cli::RunWorkflow(g, names[0], params, format, detailed_exitcode);
      }
      if (!params.empty()) {
        FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                     "sluice run: --param is for workflows; jobs and models take none");
      }
      std::optional<std::string> range;
      if (run->count("--partitions")) range = partitions;
      return cli::Run(g, names, all, full_refresh, range, format, detailed_exitcode);
    }
    if (*query) return cli::Query(g, sql, format, max_rows, query_warehouse);
    if (*load) return cli::Load(g, table, load_args, format);
    if (*extract) return cli::Extract(g, extract_source, extract_full_refresh, format);
    if (*catalog) {
      if (versions && table.empty()) {
        FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                     "sluice catalog: --versions needs a TABLE, e.g. sluice catalog silver.orders "
                     "--versions");
      }
      return versions ? cli::CatalogVersions(g, table, format) : cli::Catalog(g, table, format);
    }
    if (*show) return cli::RunsShow(g, run_id, format);
    if (*runs) {
      if (!status_filter.empty()) filter.statuses = {*meta::FindRunStatus(status_filter)};
      if (!trigger_kind_filter.empty()) {
        filter.trigger_kind = meta::FindTriggerKind(trigger_kind_filter);
      }
      return cli::Runs(g, filter, format);
    }
    if (*check) return cli::Check(g, table, rules_file, format);
    if (*quality) return cli::Quality(g, table, quality_runs, format);
    if (*profile) return cli::Profile(g, table, suggest, format);
    if (*logs) return cli::Logs(g, run_id, follow, format);
    if (*cancel) return cli::Cancel(g, run_id, format);
    if (*retry) return cli::Retry(g, run_id, retry_latest, format);
    if (*serve) return cli::Serve(g, listen, workers, rescan, grace);
    if (*landing_list) {
      std::optional<meta::LandingState> state;
      if (!landing_state.empty()) state = meta::FindLandingState(landing_state);
      return cli::LandingList(g, landing_source, state, format);
    }
    if (*landing_release) return cli::LandingRelease(g, landing_key, format);
    if (*landing_remove) return cli::LandingRemove(g, landing_key, landing_reason, format);
    if (*drop) return cli::Drop(g, drop_table, drop_yes, format);
    if (*vacuum) return cli::Vacuum(g, retain, vacuum_yes, vacuum_dry_run, format);
    if (*metastore_status) return cli::MetastoreStatus(g, format);
    if (*metastore_migrate) return cli::MetastoreMigrate(g, format);
    if (*metastore_export) return cli::MetastoreExport(g, metastore_file, format);
    if (*metastore_import) return cli::MetastoreImport(g, metastore_file, format);
    if (*token_create) return cli::TokenCreate(g, token_name);
    if (*token_list) return cli::TokenList(g, format);
    if (*token_revoke) return cli::TokenRevoke(g, token_name);
    if (*demo) return cli::Demo(demo_dir, days, rows_per_day);
  } catch (const Error& e) {
    cli::PrintError(e, format);
    return ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    if (format == "json") {
      cli::PrintError(Error(ErrorKind::kInternal, e.what()), format);
    } else {
      std::cerr << "internal error: " << Redact(e.what()) << "\n";
    }
    return 1;
  }
  return 0;
}
