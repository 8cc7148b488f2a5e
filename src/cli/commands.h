#pragma once
// One function per command; each calls into the libraries and prints. Return: the exit code.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meta/metastore.h"
#include "transform/workspace.h"

namespace sluice::cli {

struct Global {
  std::string dir;  // -C
  std::string env = "dev";
};

int Init(const std::string& dir, const std::string& example, bool sample_data);
int InitEmpty(const std::string& dir);
int Validate(const Global& g, const std::string& format);
int IngestFiles(const Global& g, const std::string& source, const std::vector<std::string>& paths,
                const std::string& format);
// With `detailed_exitcode`, crawl and run exit kExitChanges (4) when they were done but kept
// something out (files quarantined or held, rows quarantined).
int CrawlSources(const Global& g, const std::vector<std::string>& sources,
                 const std::string& format, bool detailed_exitcode);
int Run(const Global& g, const std::vector<std::string>& names, bool all, bool full_refresh,
        const std::optional<std::string>& partitions, const std::string& format,
        bool detailed_exitcode);
// `max_rows` < 0: the project's query: max_rows.
// sluice load TABLE: the catalog table into the warehouse (warehouse/load.h).
struct LoadArgs {
  std::string to;    // SCHEMA.TABLE, "" for the default
  std::string mode;  // append | overwrite | merge, "" for the default
  std::vector<std::string> key;
  bool delete_missing = false;
  int64_t version = 0;  // 0: the current one
};
int Extract(const Global& g, const std::string& source, bool full_refresh,
            const std::string& format);
int Load(const Global& g, const std::string& table, const LoadArgs& args,
         const std::string& format);
// sluice query SQL: over the catalog's tables, or the warehouse's with `warehouse`.
int Query(const Global& g, const std::string& sql, const std::string& format, int64_t max_rows,
          bool warehouse = false);
// `sluice catalog TABLE --versions`: what each version changed.
int CatalogVersions(const Global& g, const std::string& table, const std::string& format);
int Catalog(const Global& g, const std::string& table, const std::string& format);
// sluice landing list|release|remove (catalog/landing.h). release exits 4 when the file is still
// kept out.
int LandingList(const Global& g, const std::string& source, std::optional<meta::LandingState> state,
                const std::string& format);
int LandingRelease(const Global& g, const std::string& key, const std::string& format);
int LandingRemove(const Global& g, const std::string& key, const std::string& reason,
                  const std::string& format);
int Runs(const Global& g, const meta::RunFilter& filter, const std::string& format);
int RunsShow(const Global& g, int64_t id, const std::string& format);
// Workflows and the server (workflow_commands.cc).
bool IsWorkflow(const Global& g, const std::string& name);
int RunWorkflow(const Global& g, const std::string& name, const std::vector<std::string>& params,
                const std::string& format, bool detailed_exitcode);
int Serve(const Global& g, const std::string& listen, int workers, const std::string& rescan,
          const std::string& grace);
// API tokens: create prints the secret once (stdout) and stores its hash; list and revoke.
int TokenCreate(const Global& g, const std::string& name);
int TokenList(const Global& g, const std::string& format);
int TokenRevoke(const Global& g, const std::string& name);
int Logs(const Global& g, int64_t id, bool follow, const std::string& format);
int Cancel(const Global& g, int64_t id, const std::string& format);
// Retries run `id` on the definitions it ran, or with `latest` on the project's current ones.
int Retry(const Global& g, int64_t id, bool latest, const std::string& format);
// Executes claimed workflow run `id` in this process (Ctrl-C cancels it), notifying `channels`
// (notify::Channels, read before the run was queued or claimed); returns its status.
meta::RunStatus ExecuteHere(std::shared_ptr<transform::Workspace> ws, int64_t id,
                            std::map<std::string, project::Channel> channels,
                            const std::function<void(const meta::LogLine&)>& on_log);
// A workflow run's steps with their attempts, as a table.
void PrintWorkflowSteps(meta::Metastore& metastore, int64_t run_id);
// Data quality (quality_commands.cc).
int Check(const Global& g, const std::string& table, const std::string& rules_file,
          const std::string& format);
int Quality(const Global& g, const std::string& table, size_t runs, const std::string& format);
// sluice drop (transform/drop.h): asks for the table's name on a terminal unless `yes`.
int Drop(const Global& g, const std::string& table, bool yes, const std::string& format);
// sluice vacuum (catalog/vacuum.h): lists what it would remove unless `yes`.
int MetastoreStatus(const Global& g, const std::string& format);
int MetastoreMigrate(const Global& g, const std::string& format);
int MetastoreExport(const Global& g, const std::string& file, const std::string& format);
int MetastoreImport(const Global& g, const std::string& file, const std::string& format);
int Vacuum(const Global& g, const std::string& retain, bool yes, bool dry_run,
           const std::string& format);
int Profile(const Global& g, const std::string& table, const std::string& suggest,
            const std::string& format);
int Demo(const std::string& dir, int days, int64_t rows_per_day);

}  // namespace sluice::cli
