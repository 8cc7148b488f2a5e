#include "examples/empty.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace sluice::examples {

namespace {

// The folders of a project, with what goes in each (the comment atop sluice.yaml).
constexpr const char* kFolders[][2] = {
    {"sources",
     "one YAML file per source of raw files: `sluice ingest SOURCE FILES` lands\n"
     "#               them, `sluice crawl` catalogs them as bronze.SOURCE"},
    {"jobs", "YAML jobs that clean a table into another (bronze.x -> silver.y)"},
    {"models", "SQL models, models/DB/NAME.sql, built by `sluice run DB.NAME`"},
    {"checks", "DQDL rule files (Rules = [...]) that jobs, models and workflows name"},
    {"workflows", "workflows/NAME.yaml: steps, triggers and retries (`sluice run NAME`)"},
};

// The folder's name as a YAML scalar: as it is when plain, else a double-quoted string.
std::string YamlName(const std::string& name) {
  bool plain = !name.empty() && name.find_first_not_of(
                                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_-.") == std::string::npos;
  return plain ? name : nlohmann::json(name).dump();
}

}  // namespace

void WriteEmptyProject(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec))) {
    FailWithCode(ErrorKind::kUsage, "usage.file_exists",
                 "{} exists and is not an empty folder; pick another folder", dir.string());
  }
  fs::path absolute = fs::absolute(dir).lexically_normal();
  std::string name = (absolute.has_filename() ? absolute : absolute.parent_path()).filename();
  std::string text = fmt::format("# The {} project. What goes where:\n", name);
  for (const auto& [folder, what] : kFolders) {
    fs::create_directories(dir / folder);
    text += fmt::format("#   {:<12}{}\n", std::string(folder) + "/", what);
  }
  text += fmt::format(
      "# Sluice's docs/project-reference.md lists every key; `sluice init DIR` writes a full\n"
      "# example project to copy from.\n"
      "project: {}\n"
      "environments:\n"
      "  dev: {{}}   # ./lake, .sluice/dev.db\n",
      YamlName(name));
  WriteFileAtomic(dir / "sluice.yaml", text);
  WriteFileAtomic(dir / ".gitignore", "/lake/\n/.sluice/\n");
}

}  // namespace sluice::examples
