#pragma once
// Helpers every command file shares.
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/files.h"
#include "transform/workspace.h"

namespace sluice::cli {

fs::path Root(const Global& g);
// The project with its backends, checked whole (workflows included).
transform::Workspace Open(const Global& g);
// A `db.table` argument (kUsage when it is not one).
project::TableName TableArg(const std::string& text);

// The names of the project's sources, in name order.
std::vector<std::string> SourceNames(const transform::Workspace& ws);
// A `db.table` argument that must name a table in the catalog.
project::TableName CatalogTable(const transform::Workspace& ws, const std::string& text);
// RFC 3339, or "" for 0.
std::string Time(int64_t ms);
// "120 ms", "3.4 s", "2m05s".
std::string Duration(int64_t ms);

}  // namespace sluice::cli
