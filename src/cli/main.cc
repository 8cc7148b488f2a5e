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
  bool no_data = false;
  auto* init = app.add_subcommand("init", "Create a project that runs as is, with sample data");
  init->add_option("DIR", init_dir, "Folder to create")->required();
  init->add_option("--example", example, "Example project")->check(CLI::IsMember({"retail"}));
  init->add_flag("--no-data", no_data, "Leave out the sample data files");

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

  std::vector<std::string> names;
  bool all = false;
  auto* run = app.add_subcommand("run", "Run jobs and models");
  run->add_option("NAME", names, "A job name or a model table such as gold.daily_revenue");
  run->add_flag("--all", all, "Every job and model, in dependency order");
  AddFormat(run, format);

  std::string sql;
  auto* query = app.add_subcommand("query", "Run read-only SQL over every catalog table");
  query->add_option("SQL", sql, "A SELECT; tables are db.table, e.g. silver.orders")->required();
  AddFormat(query, format, true);

  std::string table;
  auto* catalog = app.add_subcommand("catalog", "List tables, or show one table");
  catalog->add_option("TABLE", table, "db.table to show");
  AddFormat(catalog, format);

  size_t limit = 20;
  auto* runs = app.add_subcommand("runs", "The run log: newest first");
  runs->add_option("--limit", limit, "How many runs")->default_str("20");
  AddFormat(runs, format);
  int64_t run_id = 0;
  auto* show = runs->add_subcommand("show", "One run with its steps and check results");
  show->add_option("RUN_ID", run_id, "Run id")->required();
  AddFormat(show, format);

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
    if (*init) return cli::Init(init_dir, example, !no_data);
    if (*validate) return cli::Validate(g, format);
    if (*ingest) return cli::IngestFiles(g, source, paths, format);
    if (*crawl) return cli::CrawlSources(g, sources, format);
    if (*run) {
      if (all == !names.empty()) {
        std::cerr << "sluice run: name jobs or models, or pass --all (not both)\n";
        return 2;
      }
      return cli::Run(g, names, all, format);
    }
    if (*query) return cli::Query(g, sql, format);
    if (*catalog) return cli::Catalog(g, table, format);
    if (*show) return cli::RunsShow(g, run_id, format);
    if (*runs) return cli::Runs(g, limit, format);
    if (*demo) return cli::Demo(demo_dir, days, rows_per_day);
  } catch (const Error& e) {
    std::cerr << "error: " << Redact(e.what()) << "\n";
    return ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << Redact(e.what()) << "\n";
    return 1;
  }
  return 0;
}
