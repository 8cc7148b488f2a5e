// sluice metastore status | migrate: where the metastore's schema stands, and bringing it to
// this binary's.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/files.h"
#include "meta/metastore.h"
#include "meta/transfer.h"
#include "project/snapshot.h"

namespace sluice::cli {

using nlohmann::json;

namespace {

// The environment's metastore URI, from sluice.yaml alone (nothing is opened).
std::string MetastoreOf(const Global& g) {
  project::Diagnostics diagnostics;
  project::DefinitionReader files(Root(g));
  auto snapshot = project::LoadSnapshot(files, g.env, diagnostics);
  diagnostics.ThrowIfAny();
  return project::MetastoreUri(snapshot.project().env);
}

json ToJson(const meta::SchemaState& s) {
  return {{"backend", s.dialect}, {"where", s.where},   {"exists", s.exists},
          {"version", s.version}, {"newest", s.newest}, {"applied", s.applied}};
}

json ToJson(const meta::TransferReport& r, const std::string& file) {
  int64_t total = 0;
  for (const auto& [t, n] : r.rows) total += n;
  return {{"backend", r.dialect}, {"where", r.where},
          {"file", file},         {"schema_version", r.schema_version},
          {"tables", r.rows},     {"rows", total}};
}

void PrintTransfer(const meta::TransferReport& r, const std::string& verb, const std::string& file,
                   const std::string& format) {
  if (format == "json") {
    PrintJson(ToJson(r, file));
    return;
  }
  int64_t total = 0;
  std::string counts;
  for (const auto& t : meta::kTransferTables) {
    int64_t n = r.rows.count(t) ? r.rows.at(t) : 0;
    total += n;
    if (n > 0) counts += fmt::format("  {:<18} {}\n", t, n);
  }
  std::cout << fmt::format("{} {} row{} ({} {}, schema version {}) {} {}\n{}", verb, total,
                           total == 1 ? "" : "s", r.dialect, r.where, r.schema_version,
                           verb == "exported" ? "to" : "from", file, counts);
}

}  // namespace

int MetastoreExport(const Global& g, const std::string& file, const std::string& format) {
  std::string uri = MetastoreOf(g);
  // Written beside the file and renamed at the end: an interrupted export leaves no half file
  // that an import could take for a whole one.
  fs::path target(file);
  // The file is written beside the target and renamed over it: only a regular file (or
  // nothing) may be there, never a folder, a link, a device or a pipe the rename would replace.
  std::error_code ec;
  auto status = fs::symlink_status(target, ec);
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    FailWithCode(ErrorKind::kUsage, "usage.export_target",
                 "sluice metastore export: {} is not a regular file; name a new file or one to "
                 "replace",
                 file);
  }
  fs::path partial = target;
  partial += ".partial";
  meta::TransferReport report;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) {
      FailWithCode(ErrorKind::kIo, "io.write",
                   "cannot write {}: {}\n  hint: the folder must exist "
                   "and be writable (the export is written beside the file, then renamed)",
                   file, std::strerror(errno));
    }
    try {
      report = meta::Export(uri, out);
    } catch (...) {
      out.close();
      std::error_code ec;
      fs::remove(partial, ec);
      throw;
    }
  }
  fs::rename(partial, target, ec);
  if (ec) {
    FailWithCode(ErrorKind::kIo, "io.write", "cannot write {}: {}", target.string(), ec.message());
  }
  PrintTransfer(report, "exported", file, format);
  return 0;
}

int MetastoreImport(const Global& g, const std::string& file, const std::string& format) {
  std::string uri = MetastoreOf(g);
  if (fs::is_directory(file)) {
    FailWithCode(ErrorKind::kInput, "io.read", "cannot read {}: it is a folder", file);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    FailWithCode(ErrorKind::kInput, "io.read", "cannot read {}: {}", file, std::strerror(errno));
  }
  PrintTransfer(meta::Import(uri, in), "imported", file, format);
  return 0;
}

int MetastoreStatus(const Global& g, const std::string& format) {
  auto s = meta::ReadSchema(MetastoreOf(g));
  if (format == "json") {
    PrintJson(ToJson(s));
    return 0;
  }
  std::cout << fmt::format("metastore: {} {}\n", s.dialect, s.where);
  if (!s.exists) {
    std::cout << fmt::format(
        "schema: none yet (the first command that uses it creates it at "
        "version {})\n",
        s.newest);
  } else if (s.version < s.newest) {
    std::cout << fmt::format(
        "schema: version {}, this sluice migrates it to {} (run `sluice metastore migrate`, or any "
        "command that uses it)\n",
        s.version, s.newest);
  } else {
    std::cout << fmt::format("schema: version {}, up to date\n", s.version);
  }
  return 0;
}

int MetastoreMigrate(const Global& g, const std::string& format) {
  auto s = meta::MigrateSchema(MetastoreOf(g));
  if (format == "json") {
    PrintJson(ToJson(s));
    return 0;
  }
  std::cout << fmt::format("metastore: {} {}\n", s.dialect, s.where);
  if (s.applied == 0) {
    std::cout << fmt::format("schema: version {}, up to date; nothing to do\n", s.version);
  } else {
    std::cout << fmt::format("schema: migrated from version {} to {}\n", s.version - s.applied,
                             s.version);
  }
  return 0;
}

}  // namespace sluice::cli
