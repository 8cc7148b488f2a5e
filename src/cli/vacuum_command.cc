// sluice vacuum [--retain 7d] [--yes | --dry-run]: old table versions and files no version lists.
#include <fmt/format.h>

#include <iostream>

#include "catalog/vacuum.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/strings.h"
#include "project/workflow.h"

namespace sluice::cli {

using nlohmann::json;

namespace {

// "3", "1-3", or "1-3, 5": the removed versions of a table.
std::string Versions(const std::vector<int64_t>& versions) {
  std::vector<std::string> runs;
  for (size_t i = 0; i < versions.size();) {
    size_t j = i;
    while (j + 1 < versions.size() && versions[j + 1] == versions[j] + 1) ++j;
    runs.push_back(i == j ? std::to_string(versions[i])
                          : fmt::format("{}-{}", versions[i], versions[j]));
    i = j + 1;
  }
  return Join(runs, ", ");
}

// Unlisted files are named one by one, up to this many.
constexpr size_t kNamedOrphans = 10;

}  // namespace

int Vacuum(const Global& g, const std::string& retain, bool yes, bool dry_run,
           const std::string& format) {
  if (yes && dry_run) {
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "sluice vacuum: --yes removes and --dry-run does not; pass one of them");
  }
  auto retain_ms = project::ParseDurationMs(retain);
  if (!retain_ms) {
    FailWithCode(ErrorKind::kUsage, "usage.bad_option",
                 "sluice vacuum: --retain '{}' is not a duration (e.g. 7d, 12h, 30m, 0s)", retain);
  }
  auto ws = Open(g);
  auto report = catalog::Vacuum(*ws.metastore, *ws.store, {*retain_ms, yes, 0});
  if (format == "json") {
    json tables = json::array();
    for (const auto& t : report.tables) {
      json files = json::array();
      for (const auto& f : t.files) files.push_back({{"key", f.key}, {"size", f.size}});
      tables.push_back({{"table", t.table}, {"versions", t.versions}, {"files", files}});
    }
    json errors = json::array();
    for (const auto& e : report.errors) {
      errors.push_back({{"key", e.key}, {"code", e.code}, {"error", e.what}});
    }
    json orphans = json::array();
    for (const auto& o : report.orphans) orphans.push_back({{"key", o.key}, {"size", o.size}});
    PrintJson({{"applied", report.applied},
               {"retain", retain},
               {"tables", tables},
               {"unlisted_files", orphans},
               {"kept_in_flight", report.in_flight},
               {"errors", errors},
               {"versions", report.versions()},
               {"files", report.files()},
               {"bytes", report.bytes()},
               {"run_id", report.run_id}});
  } else {
    if (!yes) {
      std::cout << (dry_run ? "dry run: nothing was removed" : "nothing was removed")
                << fmt::format(" (retention {}; pass --yes to remove)\n", retain);
    }
    if (report.versions() == 0 && report.files() == 0) {
      std::cout << fmt::format("nothing is older than the retention of {}\n", retain);
    } else {
      const char* verb = yes ? "removed" : "would remove";
      for (const auto& t : report.tables) {
        uint64_t bytes = 0;
        for (const auto& f : t.files) bytes += f.size;
        std::cout << fmt::format("{} {}: version{} {}, {} file{} ({})\n", verb, t.table,
                                 t.versions.size() == 1 ? "" : "s", Versions(t.versions),
                                 t.files.size(), t.files.size() == 1 ? "" : "s", HumanBytes(bytes));
      }
      for (size_t i = 0; i < report.orphans.size() && i < kNamedOrphans; ++i) {
        std::cout << fmt::format("{} {} ({}): no version lists it\n", verb, report.orphans[i].key,
                                 HumanBytes(report.orphans[i].size));
      }
      if (report.orphans.size() > kNamedOrphans) {
        std::cout << fmt::format("{} {} more files no version lists\n", verb,
                                 report.orphans.size() - kNamedOrphans);
      }
      std::cout << fmt::format("{}: {} version{}, {} file{}, {}\n", yes ? "total" : "in all",
                               report.versions(), report.versions() == 1 ? "" : "s", report.files(),
                               report.files() == 1 ? "" : "s", HumanBytes(report.bytes()));
    }
    if (!report.in_flight.empty()) {
      std::cout << fmt::format("kept {} file{} of runs still in flight\n", report.in_flight.size(),
                               report.in_flight.size() == 1 ? "" : "s");
    }
  }
  for (const auto& e : report.errors) {
    std::cerr << fmt::format("error[{}]: could not remove {}: {}\n", e.code, e.key, e.what);
  }
  if (!report.errors.empty()) {
    std::cerr << "  hint: the catalog no longer lists them; the next vacuum removes them\n";
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
