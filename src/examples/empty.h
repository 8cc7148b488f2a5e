#pragma once
// A blank project: sluice.yaml (with a comment saying what goes where) and the empty folders a
// project has, for `sluice init DIR --empty`.
#include <string>

#include "common/files.h"

namespace sluice::examples {

// Creates `dir` (or uses it when it exists and is empty) and writes the blank project into it;
// the project is named after the folder. Throws usage.file_exists when `dir` exists and holds
// anything, or is not a folder.
void WriteEmptyProject(const fs::path& dir);

}  // namespace sluice::examples
