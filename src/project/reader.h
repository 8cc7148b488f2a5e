#pragma once
// Reading project YAML files: every problem is recorded with its file:line:col (and a hint)
// instead of stopping at the first. Shared by the loaders of sluice.yaml, resources and
// workflows.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "common/redact.h"
#include "common/strings.h"
#include "project/definitions.h"
#include "project/project.h"

namespace sluice::project {

// Reads one YAML file's nodes, recording every problem with its place.
class FileReader {
 public:
  FileReader(std::string file, Diagnostics& diagnostics)
      : file_(std::move(file)), diagnostics_(diagnostics) {}

  Location At(const YAML::Node& node) const {
    YAML::Mark m = node.Mark();
    if (m.line < 0) return {file_, 0, 0};
    return {file_, m.line + 1, m.column + 1};
  }

  void Error(const YAML::Node& node, std::string message, std::string hint = "",
             std::string code = "config.invalid") {
    diagnostics_.Add(At(node), std::move(message), std::move(hint), std::move(code));
  }

  // Reports keys of `map` outside `allowed`, suggesting the nearest allowed key.
  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                 const std::string& what) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string near = Nearest(key, allowed);
      Error(it->first, fmt::format("unknown key '{}' in {}", key, what),
            near.empty() ? "expected one of: " + Join(allowed, ", ")
                         : fmt::format("did you mean '{}'?", near),
            "config.unknown_key");
    }
  }

  // A scalar's text with ${env:NAME} substituted; nullopt (and a diagnostic) when not a scalar,
  // or when it names an unset variable while those are diverted (DivertUnsetEnv).
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      Error(node, fmt::format("{} must be a single value, not a {}", what, NodeKind(node)));
      return std::nullopt;
    }
    size_t diverted = unset_env_ ? unset_env_->items().size() : 0;
    std::string text = Expand(node);
    if (unset_env_ && unset_env_->items().size() > diverted) return std::nullopt;
    return text;
  }

  // While `to` is set, an unset ${env:NAME} is reported there instead of as a problem of the
  // file (the settings of notification channels: their secrets are needed only to send).
  void DivertUnsetEnv(Diagnostics* to) { unset_env_ = to; }

  std::optional<bool> Bool(const YAML::Node& node, const std::string& what) {
    auto text = Scalar(node, what);
    if (!text) return std::nullopt;
    std::string v = ToLower(*text);
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    Error(node, fmt::format("{} must be true or false, not '{}'", what, *text));
    return std::nullopt;
  }

  // One of `choices`, with a hint for the nearest.
  std::optional<std::string> Choice(const YAML::Node& node, const std::string& what,
                                    const std::vector<std::string>& choices) {
    auto text = Scalar(node, what);
    if (!text) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
    std::string near = Nearest(*text, choices);
    Error(node, fmt::format("{} '{}' is not one of: {}", what, *text, Join(choices, ", ")),
          near.empty() ? "" : fmt::format("did you mean '{}'?", near));
    return std::nullopt;
  }

  // A list of names, also accepted as a single name.
  std::vector<std::string> NameList(const YAML::Node& node, const std::string& what) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(Expand(node));
      return out;
    }
    if (!node.IsSequence()) {
      Error(node, fmt::format("{} must be a name or a list of names", what));
      return out;
    }
    for (const auto& item : node) {
      if (auto v = Scalar(item, what)) out.push_back(*v);
    }
    return out;
  }

  // A mapping of name -> scalar value, in file order.
  // The `column: value` pairs of `node`; where each value starts goes to `value_where`.
  std::vector<std::pair<std::string, std::string>> Pairs(
      const YAML::Node& node, const std::string& what,
      std::vector<Location>* value_where = nullptr) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!node.IsMap()) {
      Error(node, fmt::format("{} must be a mapping such as {{ column: value }}", what));
      return out;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto value = Scalar(it->second, fmt::format("{} '{}'", what, it->first.Scalar()));
      if (!value) continue;
      out.emplace_back(it->first.Scalar(), *value);
      if (value_where) value_where->push_back(At(it->second));
    }
    return out;
  }

  static std::string NodeKind(const YAML::Node& node) {
    if (node.IsMap()) return "mapping";
    if (node.IsSequence()) return "list";
    if (node.IsNull()) return "empty value";
    return "value";
  }

  const std::string& file() const { return file_; }

 private:
  std::string Expand(const YAML::Node& node) {
    std::string text = node.Scalar();
    // ${env:NAME}, or ${env:NAME:-DEFAULT}: DEFAULT (without '}') when NAME is not set.
    static const std::regex env_re(R"(\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\})");
    std::string out;
    auto begin = std::sregex_iterator(text.begin(), text.end(), env_re);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += text.substr(last, it->position() - last);
      std::string name = (*it)[1];
      const char* value = std::getenv(name.c_str());
      if (!value && (*it)[2].matched) {
        out += (*it)[3].str();  // a default is written in the project: no secret
      } else if (!value) {
        (unset_env_ ? *unset_env_ : diagnostics_)
            .Add(At(node), fmt::format("environment variable {} is not set", name),
                 fmt::format("export {}=... before running sluice", name), "config.env_unset");
      } else {
        RegisterSecret(value);
        out += value;
      }
      last = it->position() + it->length();
    }
    return out + text.substr(last);
  }

  std::string file_;
  Diagnostics& diagnostics_;
  Diagnostics* unset_env_ = nullptr;
};

// The most bytes Sluice reads from one project file (YAML, DQDL).
inline constexpr size_t kMaxProjectFileBytes = 16 << 20;

// The text of a project file. Refuses, with sluice::Error(kConfig) saying what it is instead
// ("a folder, not a file", "a named pipe (FIFO), not a regular file", ...) and not naming the
// path (the caller does), anything but a regular file of at most kMaxProjectFileBytes: a FIFO
// is never opened for reading (that would block), a device such as /dev/zero never read.
std::string ReadProjectFile(const fs::path& path);

// Whether `path` (relative to `root`, or absolute) names something inside the project folder
// once `..` and symlinks are resolved: what project files point at stays in the project.
bool InsideProject(const fs::path& root, const fs::path& path);

// Parses YAML `text` of project file `file` into one document; nullopt (and a diagnostic with
// file:line:col) when it is not valid YAML, holds a second document, repeats a key in a
// mapping, nests more than kMaxYamlDepth levels or expands (through aliases) to more than
// kMaxYamlNodes nodes. An empty text is a null node.
inline constexpr int kMaxYamlDepth = 256;
inline constexpr size_t kMaxYamlNodes = 100000;
std::optional<YAML::Node> ParseYamlText(const std::string& text, const std::string& file,
                                        Diagnostics& diagnostics);

// Reads (through `files`) and parses (ParseYamlText) `rel`; nullopt and a diagnostic when it
// cannot.
std::optional<YAML::Node> ParseYaml(DefinitionReader& files, const std::string& rel,
                                    Diagnostics& diagnostics);

// files.List(dir, extensions), or none and a diagnostic (naming `dir`) when it cannot.
std::vector<std::string> ListDefinitions(DefinitionReader& files, const std::string& dir,
                                         const std::vector<std::string>& extensions,
                                         Diagnostics& diagnostics);

// A `db.name` table name, with a diagnostic when it is not one.
std::optional<TableName> ReadTableName(FileReader& r, const YAML::Node& node,
                                       const std::string& what);

// A list of checks: rule texts or { rule, on_fail } mappings.
std::vector<CheckSpec> ReadChecks(FileReader& r, const YAML::Node& checks);

// Why `name` (a `what`: "destination schema", "key column", ...) cannot be a warehouse
// identifier; "" when it can. Names are always quoted where Sluice writes SQL; refused are the
// empty name, names over kMaxNameLength bytes (PostgreSQL would cut them short) and names with a
// control character.
std::string WarehouseNameProblem(const std::string& what, const std::string& name);

// A `destination:` mapping { table: SCHEMA.TABLE, mode, key, delete_missing } (the fields of a
// `load:` step are these and `table` for the catalog table: pass `target_key` "to" there). Keys
// outside these and `extra_keys` are reported.
std::optional<Destination> ReadDestination(FileReader& r, const YAML::Node& node,
                                           const std::string& what, const char* target_key,
                                           const std::vector<std::string>& extra_keys = {});

// Whether `text` holds a control character (or DEL): such a value is refused, not echoed.
bool HasControlCharacter(std::string_view text);

// `extract:` of the source `s` (extract_settings.cc): its settings into s.extract; settings
// naming an unset ${env:...} into s.extract->unset_env, not the file's diagnostics.
void ReadExtract(FileReader& r, const YAML::Node& node, Source& s);
// `command: [PROGRAM, ARG...]`, `workdir:` and `env:` of `map` (a command step, a job's
// script:) into `out`; settings naming an unset ${env:...} go to out.unset_env, tagged `what`.
void ReadProgramSettings(FileReader& r, const YAML::Node& map, ProgramSettings& out,
                         const std::string& what);
// The folder `program` runs in: its workdir under `root`. Throws Error(kConfig,
// command.not_found) naming `where` when the folder leads outside the project (a link).
fs::path ProgramFolder(const fs::path& root, const ProgramSettings& program, const Location& where);

}  // namespace sluice::project
