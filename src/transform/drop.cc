#include "transform/drop.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/redact.h"
#include "common/time.h"
#include "lake/zones.h"

namespace sluice::transform {

meta::Table TableToDrop(Workspace& ws, const project::TableName& name) {
  auto table = ws.metastore->GetTable(name.db, name.name);
  if (!table) {
    FailWithCode(ErrorKind::kUsage, "usage.unknown_table", "no table {} in the catalog",
                 name.str());
  }
  if (table->kind == "source") {
    FailWithCode(ErrorKind::kUsage, "usage.source_table",
                 "{} is a source's table: it holds what landed, and the next crawl would "
                 "register it again\n  hint: take a file out with `sluice landing remove KEY "
                 "--reason TEXT`",
                 name.str());
  }
  return *table;
}

DropReport DropTable(Workspace& ws, const project::TableName& name, int64_t version,
                     const std::string& who) {
  TableToDrop(ws, name);
  DropReport report;
  report.table = name.str();
  report.version = version;
  meta::TableDrop drop{name.db, name.name, version, "", {}};
  for (const auto& [job_name, job] : ws.project.jobs) {
    if (job.output.table.str() != name.str()) continue;
    report.writer = "job " + job_name;
    drop.bookmark_job = job_name;
  }
  for (const auto& [table, model] : ws.project.models) {
    if (model.table.str() == name.str()) report.writer = "model " + model.table.str();
  }
  int64_t started = NowMs();
  report.run_id = ws.metastore->StartRun("drop", name.str(), "manual", RecordSnapshot(ws));
  drop.run = {report.run_id, "drop",  name.str(), meta::RunStatus::kSucceeded,
              "manual",      started, NowMs()};
  drop.run.details =
      nlohmann::json{{"table", name.str()}, {"version", version}, {"by", who}}.dump();
  std::vector<meta::TableFile> files;
  try {
    files = ws.metastore->DropTable(drop);
  } catch (const Error& e) {
    ws.metastore->FailRun(*ws.metastore->GetRun(report.run_id), Redact(e.what()));
    throw;
  }
  // The catalog no longer lists them: the objects of the table's own zone go (a source's landed
  // files are not in it; the bytes of landed files set aside never are).
  const std::string prefix = lake::zones::TablePrefix(name.db, name.name);
  for (const auto& f : files) {
    if (f.key.rfind(prefix, 0) != 0 || lake::zones::IsLandedAside(f.key)) continue;
    try {
      ws.store->Delete(f.key);
      ++report.files;
      report.bytes += f.size;
    } catch (const Error& e) {
      report.errors.push_back(fmt::format("{}: {}", f.key, Redact(e.what())));
    }
  }
  return report;
}

std::vector<OrphanTable> OrphanTables(const project::Project& project,
                                      meta::CatalogStore& catalog) {
  std::set<std::string> written;
  for (const auto& [name, job] : project.jobs) {
    written.insert(job.output.table.str());
    written.insert("quarantine." + name);
  }
  // A warehouse model's table is not in the lake: a lake table of its name is left over.
  for (const auto& [table, model] : project.models) {
    if (!model.in_warehouse) written.insert(table.str());
  }
  std::vector<OrphanTable> out;
  for (const auto& t : catalog.ListTables()) {
    if (t.kind == "source" || written.count(t.full_name())) continue;
    out.push_back({t.full_name(), t.kind});
  }
  return out;
}

std::vector<std::string> JobsStartingOver(const project::Project& project,
                                          meta::Metastore& metastore) {
  std::vector<std::string> out;
  for (const auto& [name, job] : project.jobs) {
    if (!job.incremental) continue;
    auto table = metastore.GetTable(job.output.table.db, job.output.table.name);
    if (!table || table->kind != "job" || table->version == 0) continue;
    if (metastore.Bookmarks(name).empty()) out.push_back(name);
  }
  return out;
}

}  // namespace sluice::transform
