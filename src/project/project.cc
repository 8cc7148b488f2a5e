#include "project/project.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"

namespace sluice::project {

std::string Location::str() const {
  if (line == 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string Diagnostic::str() const {
  std::string out = where.str() + ": " + message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

void Diagnostics::Add(Location where, std::string message, std::string hint) {
  items_.push_back({std::move(where), std::move(message), std::move(hint)});
}

void Diagnostics::ThrowIfAny() const {
  if (items_.empty()) return;
  std::vector<std::string> lines;
  for (const auto& d : items_) lines.push_back(d.str());
  lines.push_back(
      fmt::format("{} error{} in the project", items_.size(), items_.size() == 1 ? "" : "s"));
  throw Error(ErrorKind::kConfig, Join(lines, "\n"));
}

std::optional<TableName> TableName::Parse(const std::string& text) {
  auto parts = Split(text, '.');
  if (parts.size() != 2 || !IsPlainName(parts[0]) || !IsPlainName(parts[1])) return std::nullopt;
  return TableName{ToLower(parts[0]), ToLower(parts[1])};
}

std::string Project::CompiledModelSql(const Model& model) const {
  static const std::regex ref_re(R"(\{\{\s*ref\(\s*['"]([^'"]*)['"]\s*\)\s*\}\})");
  return std::regex_replace(model.sql, ref_re, "$1");
}

fs::path FindRoot(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (dir.has_parent_path() && dir.filename().empty()) dir = dir.parent_path();
  for (fs::path d = dir; !d.empty(); d = d.parent_path()) {
    if (fs::exists(d / "sluice.yaml", ec)) return d;
    if (d == d.parent_path()) break;
  }
  Fail(ErrorKind::kUsage,
       "no sluice.yaml in {} or any folder above it\n  hint: run inside a project, pass -C DIR, "
       "or create one with `sluice init DIR`",
       dir.string());
}

namespace {

// Databases Sluice writes itself, and names of lake zone folders (a table of database `landing`
// would land in landing/, where the crawler looks for raw files).
const std::set<std::string> kReservedDbs = {"bronze", "quarantine", "landing", "staging",
                                            "curated"};

std::string ReservedHint(const std::string& db) {
  if (db == "bronze") return "bronze holds raw landed files; write to silver or gold";
  if (db == "quarantine") return "quarantine tables are written by Sluice itself";
  return fmt::format(
      "{} is a zone folder of the lake; silver tables live in staging/ and gold "
      "tables in curated/",
      db);
}

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

  void Error(const YAML::Node& node, std::string message, std::string hint = "") {
    diagnostics_.Add(At(node), std::move(message), std::move(hint));
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
                         : fmt::format("did you mean '{}'?", near));
    }
  }

  // A scalar's text with ${env:NAME} substituted; nullopt (and a diagnostic) when not a scalar.
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      Error(node, fmt::format("{} must be a single value, not a {}", what, NodeKind(node)));
      return std::nullopt;
    }
    return Expand(node);
  }

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
  std::vector<std::pair<std::string, std::string>> Pairs(const YAML::Node& node,
                                                         const std::string& what) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!node.IsMap()) {
      Error(node, fmt::format("{} must be a mapping such as {{ column: value }}", what));
      return out;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto value = Scalar(it->second, fmt::format("{} '{}'", what, it->first.Scalar()));
      if (value) out.emplace_back(it->first.Scalar(), *value);
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
    static const std::regex env_re(R"(\$\{env:([A-Za-z_][A-Za-z0-9_]*)\})");
    std::string out;
    auto begin = std::sregex_iterator(text.begin(), text.end(), env_re);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += text.substr(last, it->position() - last);
      std::string name = (*it)[1];
      const char* value = std::getenv(name.c_str());
      if (!value) {
        Error(node, fmt::format("environment variable {} is not set", name),
              fmt::format("export {}=... before running sluice", name));
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
};

std::optional<YAML::Node> ParseYaml(const fs::path& root, const std::string& rel,
                                    Diagnostics& diagnostics) {
  try {
    return YAML::LoadFile((root / rel).string());
  } catch (const YAML::ParserException& e) {
    diagnostics.Add({rel, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg);
  } catch (const YAML::BadFile&) {
    diagnostics.Add({rel, 0, 0}, "cannot read the file");
  }
  return std::nullopt;
}

std::optional<TableName> ReadTableName(FileReader& r, const YAML::Node& node,
                                       const std::string& what) {
  auto text = r.Scalar(node, what);
  if (!text) return std::nullopt;
  auto table = TableName::Parse(*text);
  if (!table) {
    r.Error(node, fmt::format("{} '{}' is not a table name", what, *text),
            "write it as database.table, e.g. silver.orders");
  }
  return table;
}

void LoadSettings(const fs::path& root, const std::string& env_name, Project& project,
                  Diagnostics& diagnostics) {
  const std::string rel = "sluice.yaml";
  auto doc = ParseYaml(root, rel, diagnostics);
  project.env = {env_name, root / "lake", root / ".sluice" / (env_name + ".db"),
                 root / ".sluice" / (env_name + ".duckdb")};
  if (!doc) return;
  FileReader r(rel, diagnostics);
  if (!doc->IsMap()) {
    r.Error(*doc, "sluice.yaml must be a mapping with at least `project: NAME`");
    return;
  }
  r.CheckKeys(*doc, {"project", "description", "environments"}, "sluice.yaml");
  if (auto name = (*doc)["project"]) {
    if (auto v = r.Scalar(name, "project")) project.name = *v;
  } else {
    r.Error(*doc, "sluice.yaml has no `project` key", "add a line such as `project: shop`");
  }
  YAML::Node envs = (*doc)["environments"];
  bool found = env_name == "dev";  // dev needs no declaration
  if (envs && !envs.IsMap()) {
    r.Error(envs, "environments must be a mapping of name -> settings");
    return;
  }
  for (auto it = envs.begin(); envs && it != envs.end(); ++it) {
    std::string name = it->first.Scalar();
    project.environment_names.push_back(name);
    const YAML::Node& settings = it->second;
    if (settings.IsNull()) {  // `test:` alone: every default
      found = found || name == env_name;
      continue;
    }
    if (!settings.IsMap()) {
      r.Error(settings, fmt::format("environment '{}' must be a mapping of settings", name));
      continue;
    }
    r.CheckKeys(settings, {"lake", "metastore", "warehouse", "s3", "approval"},
                fmt::format("environment '{}'", name));
    if (name != env_name) continue;
    found = true;
    auto path_setting = [&](const char* key, fs::path& out, const char* remote_scheme) {
      YAML::Node node = settings[key];
      if (!node) return;
      auto v = r.Scalar(node, key);
      if (!v) return;
      if (v->find("://") != std::string::npos) {
        r.Error(node, fmt::format("{} '{}': this build supports local paths only ({} comes with a "
                                  "later release)",
                                  key, *v, remote_scheme));
        return;
      }
      out = fs::path(*v).is_absolute() ? fs::path(*v) : root / *v;
    };
    path_setting("lake", project.env.lake, "s3://");
    path_setting("metastore", project.env.metastore, "postgresql://");
    path_setting("warehouse", project.env.warehouse, "postgresql://");
  }
  if (!found) {
    std::vector<std::string> names = project.environment_names;
    if (std::find(names.begin(), names.end(), "dev") == names.end()) names.push_back("dev");
    std::string near = Nearest(env_name, names);
    diagnostics.Add(
        {rel, 0, 0}, fmt::format("no environment '{}' in sluice.yaml", env_name),
        near.empty() ? "known: " + Join(names, ", ") : fmt::format("did you mean '{}'?", near));
  }
}

void LoadSource(FileReader& r, const YAML::Node& doc, Project& project) {
  r.CheckKeys(doc, {"source", "description", "format", "on_schema_change", "csv"}, "a source");
  Source s;
  s.where = r.At(doc["source"]);
  auto name = r.Scalar(doc["source"], "source");
  if (!name) return;
  if (!IsPlainName(*name)) {
    r.Error(doc["source"], fmt::format("source name '{}' must be letters, digits and _", *name));
    return;
  }
  s.name = ToLower(*name);
  if (auto n = doc["format"]) {
    if (auto v = r.Choice(n, "format", {"csv", "json", "parquet", "auto"})) s.format = *v;
  }
  if (auto n = doc["on_schema_change"]) {
    if (auto v = r.Choice(n, "on_schema_change", {"evolve", "fail", "quarantine"})) {
      s.on_schema_change = *v;
    }
  }
  if (auto csv = doc["csv"]) {
    if (!csv.IsMap()) {
      r.Error(csv, "csv must be a mapping such as { delimiter: ';', header: true }");
    } else {
      r.CheckKeys(csv, {"delimiter", "quote", "header"}, "csv options");
      if (auto n = csv["delimiter"]) s.delimiter = r.Scalar(n, "delimiter").value_or("");
      if (auto n = csv["quote"]) s.quote = r.Scalar(n, "quote").value_or("");
      if (auto n = csv["header"]) s.header = r.Bool(n, "header");
    }
  }
  if (project.sources.count(s.name)) {
    r.Error(doc["source"], fmt::format("source '{}' is defined twice (also at {})", s.name,
                                       project.sources[s.name].where.str()));
    return;
  }
  project.sources[s.name] = s;
}

std::optional<MaskSpec> ReadMask(FileReader& r, const YAML::Node& node) {
  MaskSpec spec;
  if (node.IsMap()) {
    r.CheckKeys(node, {"partial"}, "a mask");
    if (!node["partial"]) return std::nullopt;
    spec.method = "partial";
    auto keep = r.Scalar(node["partial"], "partial");
    if (!keep) return std::nullopt;
    try {
      spec.keep = std::stoi(*keep);
    } catch (...) {
      spec.keep = -1;
    }
    if (spec.keep < 0) {
      r.Error(node["partial"], fmt::format("partial must be a whole number of characters to "
                                           "keep, not '{}'",
                                           *keep));
      return std::nullopt;
    }
    return spec;
  }
  auto method = r.Choice(node, "mask", {"hash", "redact", "partial"});
  if (!method) return std::nullopt;
  spec.method = *method;
  return spec;
}

const std::vector<std::string> kStepKinds = {"select",    "rename", "cast", "filter", "derive",
                                             "fill_null", "dedupe", "mask", "sql"};

std::optional<Step> ReadStep(FileReader& r, const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) {
    r.Error(node, "a step must be a mapping with exactly one key, the step kind",
            "e.g. `- filter: \"amount >= 0\"`; kinds: " + Join(kStepKinds, ", "));
    return std::nullopt;
  }
  auto it = node.begin();
  Step step;
  step.kind = it->first.Scalar();
  step.where = r.At(it->first);
  const YAML::Node& args = it->second;
  if (std::find(kStepKinds.begin(), kStepKinds.end(), step.kind) == kStepKinds.end()) {
    std::string near = Nearest(step.kind, kStepKinds);
    r.Error(it->first, fmt::format("unknown step '{}'", step.kind),
            near.empty() ? "expected one of: " + Join(kStepKinds, ", ")
                         : fmt::format("did you mean '{}'?", near));
    return std::nullopt;
  }
  if (step.kind == "select") {
    step.columns = r.NameList(args, "select");
  } else if (step.kind == "rename" || step.kind == "cast" || step.kind == "derive" ||
             step.kind == "fill_null") {
    step.pairs = r.Pairs(args, step.kind);
    if (step.pairs.empty() && args.IsMap()) r.Error(args, step.kind + " lists nothing");
  } else if (step.kind == "filter" || step.kind == "sql") {
    if (auto v = r.Scalar(args, step.kind)) step.text = *v;
    if (step.text.empty()) r.Error(args, step.kind + " needs an SQL text");
  } else if (step.kind == "dedupe") {
    if (!args.IsMap()) {
      r.Error(args, "dedupe must be a mapping such as { key: [order_id], keep: last }");
      return std::nullopt;
    }
    r.CheckKeys(args, {"key", "keep", "order_by"}, "dedupe");
    if (auto k = args["key"]) {
      step.key = r.NameList(k, "key");
    } else {
      r.Error(args, "dedupe needs `key`, the columns that identify a row");
    }
    if (auto k = args["keep"]) step.keep = r.Choice(k, "keep", {"first", "last"}).value_or("last");
    if (auto k = args["order_by"]) step.order_by = r.NameList(k, "order_by");
  } else if (step.kind == "mask") {
    if (!args.IsMap()) {
      r.Error(args, "mask must be a mapping such as { email: hash, card: { partial: 4 } }");
      return std::nullopt;
    }
    for (auto m = args.begin(); m != args.end(); ++m) {
      if (auto spec = ReadMask(r, m->second)) step.masks.emplace_back(m->first.Scalar(), *spec);
    }
  }
  return step;
}

void LoadJob(FileReader& r, const YAML::Node& doc, Project& project) {
  r.CheckKeys(doc, {"job", "description", "input", "incremental", "output", "steps", "checks"},
              "a job");
  Job job;
  job.where = r.At(doc["job"]);
  auto name = r.Scalar(doc["job"], "job");
  if (!name) return;
  if (!IsPlainName(*name)) {
    r.Error(doc["job"], fmt::format("job name '{}' must be letters, digits and _", *name));
    return;
  }
  job.name = ToLower(*name);
  if (auto n = doc["input"]) {
    job.input_where = r.At(n);
    if (auto t = ReadTableName(r, n, "input")) job.input = *t;
  } else {
    r.Error(doc, fmt::format("job '{}' has no `input`", job.name),
            "add e.g. `input: bronze.orders`");
  }
  if (auto n = doc["incremental"]) job.incremental = r.Bool(n, "incremental").value_or(false);
  if (auto out = doc["output"]) {
    job.output.where = r.At(out);
    if (out.IsScalar()) {
      if (auto t = ReadTableName(r, out, "output")) job.output.table = *t;
    } else if (!out.IsMap()) {
      r.Error(out, "output must be a table name or a mapping with `table`");
    } else {
      r.CheckKeys(out, {"table", "mode", "key", "partition_by"}, "output");
      if (auto t = out["table"]) {
        if (auto tn = ReadTableName(r, t, "output table")) job.output.table = *tn;
      } else {
        r.Error(out, "output has no `table`", "add e.g. `table: silver.orders`");
      }
      if (auto m = out["mode"]) {
        job.output.mode = r.Choice(m, "mode", {"append", "overwrite", "merge"}).value_or("append");
      }
      if (auto k = out["key"]) job.output.key = r.NameList(k, "key");
      if (auto p = out["partition_by"]) {
        job.output.partition_by = r.NameList(p, "partition_by");
        for (const auto& name : job.output.partition_by) {
          // They become folder names (name=value/): plain names read back as they were written.
          if (!IsPlainName(name)) {
            r.Error(p, fmt::format("partition_by column '{}' must be letters, digits and _", name),
                    "rename it in a step first, e.g. `- rename: { \"my col\": my_col }`");
          }
        }
      }
      if (job.output.mode == "merge" && job.output.key.empty()) {
        r.Error(out, "output mode merge needs `key`, the columns that identify a row");
      }
    }
    const auto& db = job.output.table.db;
    if (kReservedDbs.count(db)) {
      r.Error(out, fmt::format("a job cannot write to the {} database", db), ReservedHint(db));
    }
  } else {
    r.Error(doc, fmt::format("job '{}' has no `output`", job.name),
            "add e.g. `output: { table: silver.orders }`");
  }
  if (auto steps = doc["steps"]) {
    if (!steps.IsSequence()) {
      r.Error(steps, "steps must be a list");
    } else {
      for (const auto& s : steps) {
        if (auto step = ReadStep(r, s)) job.steps.push_back(*step);
      }
    }
  }
  if (auto checks = doc["checks"]) {
    if (!checks.IsSequence()) {
      r.Error(checks, "checks must be a list of { rule: ..., on_fail: ... }");
    } else {
      for (const auto& c : checks) {
        CheckSpec check;
        check.where = r.At(c);
        if (c.IsScalar()) {
          check.rule = *r.Scalar(c, "rule");
        } else if (!c.IsMap()) {
          r.Error(c, "a check must be a rule text or a mapping with `rule`");
          continue;
        } else {
          r.CheckKeys(c, {"rule", "on_fail", "description"}, "a check");
          if (auto rule = c["rule"]) {
            check.where = r.At(rule);
            check.rule = r.Scalar(rule, "rule").value_or("");
          } else {
            r.Error(c, "a check needs `rule`", "e.g. `rule: IsComplete \"order_id\"`");
            continue;
          }
          if (auto f = c["on_fail"]) {
            check.on_fail = r.Choice(f, "on_fail", {"fail", "warn", "quarantine"}).value_or("fail");
          }
        }
        job.checks.push_back(check);
      }
    }
  }
  if (project.jobs.count(job.name)) {
    r.Error(doc["job"], fmt::format("job '{}' is defined twice (also at {})", job.name,
                                    project.jobs[job.name].where.str()));
    return;
  }
  project.jobs[job.name] = job;
}

void LoadResourceFiles(const fs::path& root, Project& project, Diagnostics& diagnostics) {
  std::vector<std::string> files;
  for (const char* dir : {"sources", "jobs"}) {
    std::error_code ec;
    if (!fs::is_directory(root / dir, ec)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir, ec)) {
      auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
        files.push_back(fs::relative(entry.path(), root).string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  const std::vector<std::string> kinds = {"source", "job"};
  for (const auto& rel : files) {
    auto doc = ParseYaml(root, rel, diagnostics);
    if (!doc) continue;
    FileReader r(rel, diagnostics);
    if (!doc->IsMap()) {
      r.Error(*doc, "a resource file must be a mapping whose first key names its kind",
              "e.g. `source: orders` or `job: clean_orders`");
      continue;
    }
    if ((*doc)["source"]) {
      LoadSource(r, *doc, project);
    } else if ((*doc)["job"]) {
      LoadJob(r, *doc, project);
    } else if (doc->size() == 0) {
      r.Error(*doc, "the file is empty", "start it with `source: NAME` or `job: NAME`");
    } else {
      std::string first = doc->begin()->first.Scalar();
      std::string near = Nearest(first, kinds);
      r.Error(doc->begin()->first, fmt::format("'{}' does not name a resource kind", first),
              near.empty() ? "expected `source: NAME` or `job: NAME` as the first key"
                           : fmt::format("did you mean '{}'?", near));
    }
  }
}

void LoadModels(const fs::path& root, Project& project, Diagnostics& diagnostics) {
  std::error_code ec;
  if (!fs::is_directory(root / "models", ec)) return;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root / "models", ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") files.push_back(entry);
  }
  std::sort(files.begin(), files.end());
  static const std::regex ref_re(R"(\{\{\s*ref\(\s*['"]([^'"]*)['"]\s*\)\s*\}\})");
  static const std::regex braces_re(R"(\{\{[^}]*\}\})");
  for (const auto& path : files) {
    std::string rel = fs::relative(path, root).string();
    fs::path in_models = fs::relative(path, root / "models");
    Model model;
    model.where = {rel, 1, 1};
    auto parts = Split(in_models.string(), '/');
    std::string stem = path.stem().string();
    if (parts.size() != 2) {
      diagnostics.Add({rel, 0, 0}, "a model must be at models/<database>/<name>.sql",
                      "e.g. models/gold/daily_revenue.sql builds gold.daily_revenue");
      continue;
    }
    auto table = TableName::Parse(parts[0] + "." + stem);
    if (!table) {
      diagnostics.Add({rel, 0, 0}, fmt::format("'{}.{}' is not a valid table name", parts[0], stem),
                      "use letters, digits and _ for folder and file names");
      continue;
    }
    if (kReservedDbs.count(table->db)) {
      diagnostics.Add({rel, 0, 0},
                      fmt::format("a model cannot write to the {} database", table->db),
                      ReservedHint(table->db));
      continue;
    }
    model.table = *table;
    model.sql = ReadFile(path);
    auto position = [&](size_t offset) {
      int line = 1, column = 1;
      for (size_t i = 0; i < offset; ++i) {
        if (model.sql[i] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      return Location{rel, line, column};
    };
    for (auto it = std::sregex_iterator(model.sql.begin(), model.sql.end(), braces_re);
         it != std::sregex_iterator(); ++it) {
      std::smatch ref;
      std::string text = it->str();
      Location where = position(it->position());
      if (!std::regex_match(text, ref, ref_re)) {
        diagnostics.Add(where, fmt::format("cannot read '{}'", text),
                        "write references as {{ ref('database.table') }}");
        continue;
      }
      auto target = TableName::Parse(ref[1]);
      if (!target) {
        diagnostics.Add(where, fmt::format("ref('{}') is not a table name", ref[1].str()),
                        "write it as database.table, e.g. ref('silver.orders')");
        continue;
      }
      model.refs.push_back({*target, where});
    }
    if (Trim(model.sql).empty()) diagnostics.Add({rel, 0, 0}, "the model is empty");
    project.models[model.table] = model;
  }
}

}  // namespace

Project Load(const fs::path& root, const std::string& env, Diagnostics& diagnostics) {
  Project project;
  project.root = root;
  LoadSettings(root, env, project, diagnostics);
  LoadResourceFiles(root, project, diagnostics);
  LoadModels(root, project, diagnostics);
  return project;
}

}  // namespace sluice::project
