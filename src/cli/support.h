#pragma once
// Helpers every command file shares.
#include <string>

#include "cli/commands.h"
#include "common/files.h"
#include "transform/workspace.h"

namespace sluice::cli {

fs::path Root(const Global& g);
// The project with its backends, checked whole (workflows included).
transform::Workspace Open(const Global& g);
// RFC 3339, or "" for 0.
std::string Time(int64_t ms);
// "120 ms", "3.4 s", "2m05s".
std::string Duration(int64_t ms);

}  // namespace sluice::cli
