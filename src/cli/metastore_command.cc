// sluice metastore status | migrate: where the metastore's schema stands, and bringing it to
// this binary's.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "meta/metastore.h"
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

}  // namespace

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
