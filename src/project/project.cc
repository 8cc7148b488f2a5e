#include "project/project.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <tuple>

#include "common/error.h"
#include "common/redact.h"
#include "common/strings.h"
#include "project/reader.h"
#include "project/workflow.h"

namespace sluice::project {

std::string Location::str() const {
  if (line == 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

namespace {
struct EncodingName {
  CsvEncoding encoding;
  std::vector<std::string_view> names;  // the first is ToString's
};
const std::vector<EncodingName>& EncodingNames() {
  static const std::vector<EncodingName> names = {
      {CsvEncoding::kUtf8, {"utf-8", "utf8"}},
      {CsvEncoding::kLatin1, {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1"}},
      {CsvEncoding::kWindows1252, {"windows-1252", "cp1252", "win1252"}},
      {CsvEncoding::kUtf16, {"utf-16", "utf16"}},
      {CsvEncoding::kUtf16Le, {"utf-16le", "utf16le"}},
      {CsvEncoding::kUtf16Be, {"utf-16be", "utf16be"}},
  };
  return names;
}
}  // namespace

std::string ToString(LoadMode mode) {
  switch (mode) {
    case LoadMode::kAppend:
      return "append";
    case LoadMode::kOverwrite:
      return "overwrite";
    case LoadMode::kMerge:
      return "merge";
  }
  return "append";
}

std::optional<LoadMode> ParseLoadMode(std::string_view text) {
  if (text == "append") return LoadMode::kAppend;
  if (text == "overwrite") return LoadMode::kOverwrite;
  if (text == "merge") return LoadMode::kMerge;
  return std::nullopt;
}

namespace {
const Destination* DeclaredDestination(const Project& project, const TableName& table,
                                       std::string& mode, std::vector<std::string>& key) {
  for (const auto& [name, job] : project.jobs) {
    if (job.output.table == table) {
      mode = job.output.mode;
      key = job.output.key;
      return job.output.destination ? &*job.output.destination : nullptr;
    }
  }
  if (auto it = project.models.find(table); it != project.models.end()) {
    mode = ModelOutputMode(it->second);
    key = it->second.unique_key;
    if (it->second.snapshot) key.push_back("valid_from");  // a key's versions
    return it->second.destination ? &*it->second.destination : nullptr;
  }
  mode = "append";
  return nullptr;
}

}  // namespace

Destination ResolveDestination(const Project& project, const TableName& table,
                               const Destination& given) {
  std::string output_mode;
  std::vector<std::string> output_key;
  const Destination* declared = DeclaredDestination(project, table, output_mode, output_key);
  Destination d = given;
  if (d.schema.empty()) {
    d.schema = declared && !declared->schema.empty() ? declared->schema : table.db;
    d.table = declared && !declared->table.empty() ? declared->table : table.name;
  }
  if (!d.mode) d.mode = declared && declared->mode ? declared->mode : ParseLoadMode(output_mode);
  if (d.key.empty()) d.key = declared && !declared->key.empty() ? declared->key : output_key;
  if (!given.delete_missing && declared) d.delete_missing = declared->delete_missing;
  if (*d.mode == LoadMode::kMerge && d.key.empty()) {
    FailWithCode(ErrorKind::kUsage, "load.key",
                 "a merge into {}.{} needs a key: name its columns (--key COLUMN, or `key:` of "
                 "the destination)",
                 d.schema, d.table);
  }
  if (d.delete_missing && *d.mode != LoadMode::kMerge) {
    FailWithCode(ErrorKind::kUsage, "load.key", "delete_missing applies to mode merge only");
  }
  return d;
}

std::string ModelOutputMode(const Model& model) {
  if (!model.incremental) return "overwrite";
  return model.unique_key.empty() ? "append" : "merge";
}

bool IsWarehouseModel(const Project& project, const TableName& table) {
  auto it = project.models.find(table);
  return it != project.models.end() && it->second.in_warehouse;
}

std::optional<Destination> WarehouseTable(const Project& project, const TableName& table) {
  if (IsWarehouseModel(project, table)) {
    Destination own;
    own.schema = table.db;
    own.table = table.name;
    own.mode = LoadMode::kOverwrite;
    return own;
  }
  std::string mode;
  std::vector<std::string> key;
  const Destination* declared = DeclaredDestination(project, table, mode, key);
  if (declared == nullptr) return std::nullopt;
  Destination d;
  d.schema = declared->schema.empty() ? table.db : declared->schema;
  d.table = declared->table.empty() ? table.name : declared->table;
  d.where = declared->where;
  return d;
}

std::vector<std::string> DestinationMergeKey(const Project& project, const TableName& table) {
  std::string mode;
  std::vector<std::string> key;
  if (DeclaredDestination(project, table, mode, key) == nullptr) return {};
  Destination d = ResolveDestination(project, table, {});
  return *d.mode == LoadMode::kMerge ? d.key : std::vector<std::string>{};
}

std::string MetastoreUri(const Environment& env) {
  return env.metastore_uri.empty() ? "sqlite:" + env.metastore.string() : env.metastore_uri;
}

bool IsPostgresConninfo(std::string_view text) {
  static const std::regex keywords(
      R"(^\s*(host|hostaddr|port|dbname|user|service|sslmode|application_name)\s*=)");
  return text.starts_with("postgresql://") || text.starts_with("postgres://") ||
         std::regex_search(std::string(text), keywords);
}

std::string ToString(CsvEncoding encoding) {
  for (const auto& e : EncodingNames()) {
    if (e.encoding == encoding) return std::string(e.names.front());
  }
  return "utf-8";
}

std::optional<CsvEncoding> ParseCsvEncoding(std::string_view name) {
  if (name.size() > 32) return std::nullopt;
  std::string lower = ToLower(name);
  for (const auto& e : EncodingNames()) {
    for (auto n : e.names) {
      if (n == lower) return e.encoding;
    }
  }
  return std::nullopt;
}

std::vector<std::string> CsvEncodingNames() {
  std::vector<std::string> out;
  for (const auto& e : EncodingNames()) out.emplace_back(e.names.front());
  return out;
}

std::string Diagnostic::str() const {
  std::string out = where.str() + ": " + message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

void Diagnostics::Add(Location where, std::string message, std::string hint, std::string code) {
  items_.push_back({std::move(where), std::move(message), std::move(hint), std::move(code)});
}

void Diagnostics::ThrowIfAny() const {
  if (items_.empty()) return;
  std::vector<std::string> lines;
  for (const auto& d : items_) lines.push_back(d.str());
  lines.push_back(
      fmt::format("{} error{} in the project", items_.size(), items_.size() == 1 ? "" : "s"));
  throw Error(ErrorKind::kConfig, items_.front().code, Join(lines, "\n"));
}

std::optional<TableName> TableName::Parse(const std::string& text) {
  auto parts = Split(text, '.');
  if (parts.size() != 2 || !IsPlainName(parts[0]) || !IsPlainName(parts[1])) return std::nullopt;
  return TableName{ToLower(parts[0]), ToLower(parts[1])};
}

std::string NameLengthProblem(const std::string& what, const std::string& name) {
  if (name.size() <= kMaxNameLength) return "";
  return fmt::format("{} '{}' is {} characters long; names are at most {}", what, name, name.size(),
                     kMaxNameLength);
}

std::string TableNameProblem(const TableName& table) {
  static const std::set<std::string> duckdb_names = {"main",   "system",     "temp",
                                                     "memory", "pg_catalog", "information_schema"};
  if (duckdb_names.count(table.db)) {
    return fmt::format("'{}' cannot be a database name in {}: DuckDB keeps it for its own catalog",
                       table.db, table.str());
  }
  std::string problem = NameLengthProblem("database name", table.db);
  return problem.empty() ? NameLengthProblem("table name", table.name) : problem;
}

namespace {

// A {{ ... }} of a model's SQL.
struct Brace {
  enum Kind { kRef, kThis, kIf, kEnd, kOther } kind = kOther;
  size_t offset = 0, length = 0;
  std::string text;  // as written
  std::string ref;   // kRef: the name inside ref('...')
};

std::vector<Brace> Braces(const std::string& sql) {
  static const std::regex braces_re(R"(\{\{[^}]*\}\})");
  static const std::regex ref_re(R"(\{\{\s*ref\(\s*['"]([^'"]*)['"]\s*\)\s*\}\})");
  static const std::regex this_re(R"(\{\{\s*this\s*\}\})");
  static const std::regex if_re(R"(\{\{\s*if\s+incremental\s*\}\})");
  static const std::regex end_re(R"(\{\{\s*end\s*\}\})");
  std::vector<Brace> out;
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), braces_re);
       it != std::sregex_iterator(); ++it) {
    Brace b;
    b.offset = static_cast<size_t>(it->position());
    b.length = static_cast<size_t>(it->length());
    b.text = it->str();
    std::smatch m;
    if (std::regex_match(b.text, m, ref_re)) {
      b.kind = Brace::kRef;
      b.ref = m[1].str();
    } else if (std::regex_match(b.text, this_re)) {
      b.kind = Brace::kThis;
    } else if (std::regex_match(b.text, if_re)) {
      b.kind = Brace::kIf;
    } else if (std::regex_match(b.text, end_re)) {
      b.kind = Brace::kEnd;
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

std::string Project::CompiledModelSql(const Model& model, bool incremental,
                                      const std::function<std::string(const Ref&)>& name_of,
                                      const std::string& this_name) const {
  std::string out;
  size_t pos = 0;
  bool skipping = false;
  for (const auto& b : Braces(model.sql)) {
    if (!skipping) out += model.sql.substr(pos, b.offset - pos);
    pos = b.offset + b.length;
    switch (b.kind) {
      case Brace::kRef: {
        if (skipping) break;
        auto ref = std::find_if(model.refs.begin(), model.refs.end(),
                                [&](const Ref& r) { return r.offset == b.offset; });
        if (ref == model.refs.end()) {
          out += b.text;  // not a table name: the project does not load
        } else {
          out += name_of ? name_of(*ref) : ref->table.str();
        }
        break;
      }
      case Brace::kThis:
        if (!skipping) out += this_name.empty() ? model.table.str() : this_name;
        break;
      case Brace::kIf:
        skipping = !incremental;
        break;
      case Brace::kEnd:
        skipping = false;
        break;
      case Brace::kOther:
        if (!skipping) out += b.text;
        break;
    }
  }
  if (!skipping) out += model.sql.substr(pos);
  return out;
}

void RequireSet(const std::vector<Diagnostic>& unset) {
  if (!unset.empty()) throw Error(ErrorKind::kConfig, unset.front().code, unset.front().str());
}

void CheckChannelSecrets(const Project& project, Diagnostics& diagnostics) {
  for (const auto& [name, channel] : project.channels) {
    for (const auto& d : channel.unset_env) diagnostics.Add(d.where, d.message, d.hint, d.code);
  }
}

void CheckExtractSecrets(const Project& project, Diagnostics& diagnostics) {
  for (const auto& [name, source] : project.sources) {
    if (!source.extract) continue;
    for (const auto& d : source.extract->unset_env) {
      diagnostics.Add(d.where, d.message, d.hint, d.code);
    }
  }
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string Project::AlignedModelSql(const Model& model) const {
  std::string out;
  size_t pos = 0;
  for (const auto& b : Braces(model.sql)) {
    out += model.sql.substr(pos, b.offset - pos);
    pos = b.offset + b.length;
    std::string name;
    if (b.kind == Brace::kRef) {
      name = b.ref;
    } else if (b.kind == Brace::kThis) {
      name = model.table.str();
    } else if (b.kind == Brace::kOther) {
      name = b.text;
    }
    if (name.size() < b.length) name.resize(b.length, ' ');
    out += name;
  }
  return out + model.sql.substr(pos);
}

Location LocationIn(const std::string& file, const std::string& text, size_t offset) {
  Location where{file, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else {
      ++where.column;
    }
  }
  return where;
}

fs::path FindRoot(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (dir.has_parent_path() && dir.filename().empty()) dir = dir.parent_path();
  for (fs::path d = dir; !d.empty(); d = d.parent_path()) {
    if (fs::exists(d / "sluice.yaml", ec)) return d;
    if (d == d.parent_path()) break;
  }
  FailWithCode(
      ErrorKind::kUsage, "usage.no_project",
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

// `on:` accepts the event types themselves and these aliases.
const std::vector<std::pair<std::string, std::vector<std::string>>>& EventAliases() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> aliases = {
      {"success", {"run_succeeded"}},
      {"failure", {"run_failed"}},
      {"retry", {"step_retried"}},
      {"caught", {"step_caught"}},
      {"quality", {"quality_warned", "quality_failed"}},
      {"drift", {"schema_drift"}},
      {"quarantine", {"file_quarantined"}},
      {"all", kEventTypes}};
  return aliases;
}

// The event types a channel's `on:` names, aliases expanded, in kEventTypes order.
std::vector<std::string> ReadEventTypes(FileReader& r, const YAML::Node& node,
                                        const std::string& channel) {
  std::vector<std::string> names;
  for (const auto& [alias, types] : EventAliases()) names.push_back(alias);
  names.insert(names.end(), kEventTypes.begin(), kEventTypes.end());
  if (!node.IsScalar() && !node.IsSequence()) {
    r.Error(node,
            fmt::format("`on` of channel '{}' must be an event type or a list of them", channel),
            "e.g. `on: [failure, quality]`; names: " + Join(names, ", "));
    return {};
  }
  std::vector<YAML::Node> items;
  if (node.IsScalar()) {
    items.push_back(node);
  } else {
    for (const auto& item : node) items.push_back(item);
  }
  std::set<std::string> chosen;
  for (const auto& item : items) {
    auto name = r.Scalar(item, "an event type");
    if (!name) continue;
    if (std::find(kEventTypes.begin(), kEventTypes.end(), *name) != kEventTypes.end()) {
      chosen.insert(*name);
      continue;
    }
    auto alias = std::find_if(EventAliases().begin(), EventAliases().end(),
                              [&](const auto& a) { return a.first == *name; });
    if (alias != EventAliases().end()) {
      chosen.insert(alias->second.begin(), alias->second.end());
      continue;
    }
    std::string near = Nearest(*name, names);
    r.Error(item, fmt::format("unknown event type '{}' in `on` of channel '{}'", *name, channel),
            near.empty() ? "expected one of: " + Join(names, ", ")
                         : fmt::format("did you mean '{}'?", near));
  }
  std::vector<std::string> out;
  for (const auto& type : kEventTypes) {
    if (chosen.count(type)) out.push_back(type);
  }
  return out;
}

bool IsUrlWithScheme(const std::string& text, const std::vector<std::string>& schemes) {
  std::string lower = ToLower(text);
  return std::any_of(schemes.begin(), schemes.end(), [&](const std::string& scheme) {
    std::string prefix = scheme + "://";
    return StartsWith(lower, prefix) && lower.size() > prefix.size();
  });
}

// An e-mail address as far as a config check can tell: something@domain.
bool LooksLikeAddress(const std::string& text) {
  auto at = text.find('@');
  return at != std::string::npos && at > 0 && at + 1 < text.size() &&
         text.find_first_of(" \t\r\n,") == std::string::npos;
}

// The settings of one channel of `notifications:`: `key` is its name, `node` its settings;
// nullopt when they cannot make a channel.
std::optional<Channel> ReadChannelSettings(FileReader& r, const fs::path& root,
                                           const YAML::Node& key, const YAML::Node& node) {
  static const std::vector<std::string> kTypes = {"webhook", "email", "command", "file"};
  Channel c;
  c.name = key.Scalar();
  c.where = r.At(key);
  if (!IsPlainName(c.name)) {
    r.Error(key, fmt::format("channel name '{}' must be letters, digits and _", c.name));
    return std::nullopt;
  }
  if (!node.IsMap()) {
    r.Error(node.IsNull() ? key : node,
            fmt::format("notification channel '{}' must be a mapping of settings", c.name),
            "e.g. `" + c.name + ": { webhook: \"https://hooks.example.com/x\", on: [failure] }`");
    return std::nullopt;
  }
  const std::string what = fmt::format("notification channel '{}'", c.name);
  r.CheckKeys(node,
              {"webhook", "email", "command", "file", "on", "attempts", "secret", "smtp", "from",
               "username", "password", "tls", "description"},
              what);
  std::vector<std::string> kinds;
  for (const auto& type : kTypes) {
    if (node[type]) kinds.push_back(type);
  }
  if (kinds.empty()) {
    r.Error(key, what + " needs one of: " + Join(kTypes, ", "),
            "e.g. `webhook: URL`, `email: [ops@example.com]`, `command: \"...\"` or "
            "`file: notifications.jsonl`");
    return std::nullopt;
  }
  if (kinds.size() > 1) {
    r.Error(node[kinds[1]],
            fmt::format("{} has both `{}` and `{}`: a channel is one of them", what, kinds[0],
                        kinds[1]),
            "split it into two channels");
    return std::nullopt;
  }
  c.type = kinds[0];
  // Settings that belong to another kind of channel.
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string k = it->first.Scalar();
    std::string owner;
    if (k == "secret") owner = "webhook";
    if (k == "smtp" || k == "from" || k == "username" || k == "password" || k == "tls") {
      owner = "email";
    }
    if (!owner.empty() && owner != c.type) {
      r.Error(it->first, fmt::format("`{}` is a setting of {} channels; {} is {} {} channel", k,
                                     owner, what, c.type == "email" ? "an" : "a", c.type));
    }
  }
  const YAML::Node target = node[c.type];
  if (c.type == "webhook") {
    // One from an unset variable (nullopt here) is checked once it is set.
    auto url = r.Scalar(target, "webhook");
    if (url && !IsUrlWithScheme(*url, {"http", "https"})) {
      r.Error(target, fmt::format("webhook '{}' is not an http:// or https:// URL", *url),
              "e.g. webhook: \"https://hooks.example.com/sluice\"");
      return std::nullopt;
    }
    c.target = url.value_or("");
    if (auto s = node["secret"]) {
      if (auto v = r.Scalar(s, "secret")) {
        c.secret = *v;
        RegisterSecret(c.secret);  // never shown, even when written in the file itself
      }
    }
  } else if (c.type == "email") {
    if (!target.IsScalar() && !target.IsSequence()) {
      r.Error(target, "email must be an address or a list of addresses",
              "e.g. email: [ops@example.com]");
    }
    std::vector<YAML::Node> items;
    if (target.IsScalar()) items.push_back(target);
    if (target.IsSequence()) {
      for (const auto& item : target) items.push_back(item);
    }
    for (const auto& item : items) {
      auto address = r.Scalar(item, "an email recipient");
      if (!address) continue;
      if (!LooksLikeAddress(*address)) {
        r.Error(item, fmt::format("email recipient '{}' is not an address", *address),
                "e.g. ops@example.com");
        continue;
      }
      c.to.push_back(*address);
    }
    if (target.IsSequence() && items.empty()) {
      r.Error(target, what + " lists no recipients", "e.g. email: [ops@example.com]");
    }
    if (auto s = node["smtp"]) {
      if (auto v = r.Scalar(s, "smtp")) {
        if (IsUrlWithScheme(*v, {"smtp", "smtps"})) {
          c.target = *v;
        } else {
          r.Error(s, fmt::format("smtp '{}' is not an smtp:// or smtps:// URL", *v),
                  "e.g. smtp: \"smtp://mail.example.com:587\" (STARTTLS) or "
                  "\"smtps://mail.example.com:465\"");
        }
      }
    } else {
      r.Error(key, what + " has no `smtp`, the mail server to send through",
              "add e.g. `smtp: \"smtp://mail.example.com:587\"`");
    }
    if (auto s = node["from"]) {
      if (auto v = r.Scalar(s, "from")) {
        if (LooksLikeAddress(*v)) {
          c.from = *v;
        } else {
          r.Error(s, fmt::format("from '{}' is not an address", *v), "e.g. sluice@example.com");
        }
      }
    } else {
      r.Error(key, what + " has no `from`, the sender's address",
              "add e.g. `from: sluice@example.com`");
    }
    if (auto s = node["username"]) c.username = r.Scalar(s, "username").value_or("");
    if (auto s = node["password"]) {
      c.password = r.Scalar(s, "password").value_or("");
      RegisterSecret(c.password);
    }
    if (auto s = node["tls"]) {
      c.tls = r.Choice(s, "tls", {"starttls", "try", "none"}).value_or("starttls");
    }
  } else {
    auto v = r.Scalar(target, c.type);
    if (v && Trim(*v).empty()) {
      r.Error(target, fmt::format("{} of {} is empty", c.type, what),
              c.type == "command" ? "e.g. command: \"logger -t sluice\""
                                  : "e.g. file: notifications.jsonl");
      return std::nullopt;
    }
    c.target = v.value_or("");
    if (c.type == "file" && v && !fs::path(*v).is_absolute()) c.target = (root / *v).string();
  }
  if (auto a = node["attempts"]) {
    if (auto v = r.Scalar(a, "attempts")) {
      int n = 0;
      try {
        size_t used = 0;
        n = std::stoi(*v, &used);
        if (used != v->size()) n = 0;
      } catch (...) {
        n = 0;
      }
      if (n < 1 || n > 100) {
        r.Error(a, fmt::format("attempts must be a whole number from 1 to 100, not '{}'", *v));
      } else {
        c.attempts = n;
      }
    }
  }
  if (auto on = node["on"]) {
    c.events = ReadEventTypes(r, on, c.name);
  } else {
    c.events = {"run_failed"};
  }
  return c;
}

// One channel of `notifications:`; a setting naming an unset variable is kept in its unset_env.
void ReadChannel(FileReader& r, const fs::path& root, const YAML::Node& key, const YAML::Node& node,
                 Project& project) {
  Diagnostics unset;
  r.DivertUnsetEnv(&unset);
  auto c = ReadChannelSettings(r, root, key, node);
  r.DivertUnsetEnv(nullptr);
  if (!c) return;
  for (const auto& d : unset.items()) {
    c->unset_env.push_back({d.where,
                            fmt::format("{} (notification channel '{}')", d.message, c->name),
                            d.hint, d.code});
  }
  project.channels[c->name] = std::move(*c);
}

// `notifications:` of sluice.yaml: channel name -> settings.
void ReadChannels(FileReader& r, const fs::path& root, const YAML::Node& node, Project& project) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    r.Error(node, "notifications must be a mapping of channel name -> settings",
            "e.g. `notifications: { team: { webhook: URL, on: [failure] } }`");
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    ReadChannel(r, root, it->first, it->second, project);
  }
}

// `lineage:` of sluice.yaml: where OpenLineage run events go.
void ReadLineage(FileReader& r, const YAML::Node& node, Lineage& lineage) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    r.Error(node, "lineage must be a mapping with `url` and `namespace`",
            "e.g. `lineage: { url: \"http://localhost:5000/api/v1/lineage\", namespace: shop }`");
    return;
  }
  r.CheckKeys(node, {"url", "namespace"}, "lineage");
  if (auto u = node["url"]) {
    if (auto v = r.Scalar(u, "lineage url")) {
      if (IsUrlWithScheme(*v, {"http", "https"})) {
        lineage.url = *v;
      } else {
        r.Error(u, fmt::format("lineage url '{}' is not an http:// or https:// URL", *v),
                "e.g. url: \"http://localhost:5000/api/v1/lineage\"");
      }
    }
  } else {
    r.Error(node, "lineage has no `url`, the OpenLineage endpoint to POST run events to",
            "add e.g. `url: \"http://localhost:5000/api/v1/lineage\"`");
  }
  if (auto n = node["namespace"]) {
    if (auto v = r.Scalar(n, "lineage namespace")) {
      if (Trim(*v).empty()) {
        r.Error(n, "lineage namespace is empty", "e.g. namespace: shop");
      } else {
        lineage.namespace_name = *v;
      }
    }
  }
}

// A whole number from `min` to `max`, optionally with a KB/MB/GB suffix (powers of 1024) where
// `bytes`; nullopt (and a diagnostic naming `what`) otherwise.
std::optional<int64_t> ReadCount(FileReader& r, const YAML::Node& node, const std::string& what,
                                 int64_t min, int64_t max, bool bytes = false) {
  auto text = r.Scalar(node, what);
  if (!text) return std::nullopt;
  std::string digits = *text;
  int64_t unit = 1;
  if (bytes) {
    for (auto [suffix, size] :
         {std::pair{"KB", int64_t{1} << 10}, std::pair{"MB", int64_t{1} << 20},
          std::pair{"GB", int64_t{1} << 30}}) {
      if (EndsWith(ToUpper(digits), suffix)) {
        digits = Trim(digits.substr(0, digits.size() - 2));
        unit = size;
      }
    }
  }
  int64_t n = -1;
  if (!digits.empty() && digits.size() <= 12 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    n = std::stoll(digits);
    n = n > max / unit ? max + 1 : n * unit;  // no overflow: 999999999999GB is too many
  }
  if (n < min || n > max) {
    r.Error(node,
            fmt::format("{} must be a whole number from {} to {}{}, not '{}'", what, min, max,
                        bytes ? " bytes" : "", *text),
            bytes ? "e.g. 1MB, 256KB or 65536" : "");
    return std::nullopt;
  }
  return n;
}

// `serve:` of sluice.yaml: the HTTP API's admission settings.
void ReadServe(FileReader& r, const YAML::Node& node, ServeSettings& serve) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    r.Error(node, "serve must be a mapping of settings",
            "e.g. `serve: { allowed_hosts: [sluice.example.com], auth: required }`");
    return;
  }
  r.CheckKeys(node,
              {"allowed_hosts", "auth", "max_body", "max_connections", "max_connections_per_client",
               "max_followers", "runs_per_minute"},
              "serve");
  if (auto n = node["allowed_hosts"]) {
    for (const auto& host : r.NameList(n, "serve allowed_hosts")) {
      if (host.empty() || host.find_first_of(":/ *?") != std::string::npos) {
        r.Error(n,
                fmt::format("serve allowed_hosts '{}' must be a host name, without scheme, "
                            "port or wildcard",
                            host),
                "e.g. allowed_hosts: [sluice.example.com]");
      } else {
        serve.allowed_hosts.push_back(ToLower(host));
      }
    }
  }
  if (auto n = node["auth"]) {
    if (auto v = r.Choice(n, "serve auth", {"auto", "required"})) {
      serve.auth = *v == "required" ? ServeAuth::kRequired : ServeAuth::kAuto;
    }
  }
  if (auto n = node["max_body"]) {
    serve.max_body =
        ReadCount(r, n, "serve max_body", 1024, int64_t{1} << 30, true).value_or(serve.max_body);
  }
  for (auto [key, field, max] : {std::tuple{"max_connections", &serve.max_connections, 65536},
                                 std::tuple{"max_followers", &serve.max_followers, 65536},
                                 std::tuple{"runs_per_minute", &serve.runs_per_minute, 1000000}}) {
    if (auto n = node[key]) {
      *field =
          static_cast<int>(ReadCount(r, n, fmt::format("serve {}", key), 1, max).value_or(*field));
    }
  }
  serve.max_connections_per_client = std::max(1, serve.max_connections / 2);
  if (auto n = node["max_connections_per_client"]) {
    if (auto v = ReadCount(r, n, "serve max_connections_per_client", 1, serve.max_connections)) {
      serve.max_connections_per_client = static_cast<int>(*v);
    }
  }
}

void ReadQuerySettings(FileReader& r, const YAML::Node& n, QuerySettings& query) {
  if (!n.IsMap()) {
    r.Error(n, "query must be a mapping", "e.g. query: { timeout: 5m, max_rows: 10000 }");
    return;
  }
  r.CheckKeys(n, {"timeout", "memory_limit", "max_rows"}, "query");
  if (auto t = n["timeout"]) {
    auto v = r.Scalar(t, "query timeout");
    auto ms = v ? ParseDurationMs(*v) : std::nullopt;
    if (v && (!ms || *ms <= 0)) {
      r.Error(t, fmt::format("query timeout '{}' is not a duration", *v), "e.g. 30s, 5m, 1h");
    } else if (ms) {
      query.timeout_ms = *ms;
    }
  }
  if (auto m = n["memory_limit"]) {
    static const std::regex size_re(R"(\d+(\.\d+)?\s*([KMGT]i?B|B))", std::regex::icase);
    auto v = r.Scalar(m, "query memory_limit");
    if (v && !std::regex_match(*v, size_re)) {
      r.Error(m, fmt::format("query memory_limit '{}' is not a size", *v), "e.g. 512MB, 4GB");
    } else if (v) {
      query.memory_limit = *v;
    }
  }
  if (auto m = n["max_rows"]) {
    auto v = r.Scalar(m, "query max_rows");
    static const std::regex count_re(R"(\d{1,15})");
    if (v && !std::regex_match(*v, count_re)) {
      r.Error(m, fmt::format("query max_rows '{}' is not a count of rows", *v),
              "e.g. 10000; 0 lifts the limit");
    } else if (v) {
      query.max_rows = std::stoll(*v);
    }
  }
}

void LoadSettings(DefinitionReader& files, const std::string& env_name, Project& project,
                  Diagnostics& diagnostics) {
  const fs::path& root = files.root();
  const std::string rel = "sluice.yaml";
  auto doc = ParseYaml(files, rel, diagnostics);
  project.env = {.name = env_name,
                 .lake = root / "lake",
                 .metastore = root / ".sluice" / (env_name + ".db"),
                 .warehouse = root / ".sluice" / (env_name + ".duckdb")};
  if (!doc) return;
  FileReader r(rel, diagnostics);
  if (!doc->IsMap()) {
    r.Error(*doc, "sluice.yaml must be a mapping with at least `project: NAME`");
    return;
  }
  r.CheckKeys(*doc,
              {"project", "description", "environments", "notifications", "lineage", "pii", "serve",
               "query"},
              "sluice.yaml");
  if (auto n = (*doc)["pii"]) {
    if (!n.IsMap()) {
      r.Error(n, "pii must be a mapping", "e.g. pii: { mask: tokenize }");
    } else {
      r.CheckKeys(n, {"mask", "entities"}, "pii");
      if (auto m = n["mask"]) {
        project.pii.mask = r.Choice(m, "pii mask", {"hash", "redact", "tokenize"}).value_or("hash");
      }
      if (auto list = n["entities"]) {
        if (!list.IsSequence()) {
          r.Error(list, "pii entities must be a list of { name, regex, context }");
        } else {
          for (const auto& e : list) {
            if (!e.IsMap()) {
              r.Error(e, "a pii entity must be a mapping with name and regex");
              continue;
            }
            r.CheckKeys(e, {"name", "regex", "context"}, "a pii entity");
            PiiEntity entity;
            if (e["name"]) entity.name = r.Scalar(e["name"], "name").value_or("");
            if (e["regex"]) entity.regex = r.Scalar(e["regex"], "regex").value_or("");
            if (e["context"]) entity.context = r.NameList(e["context"], "context");
            if (entity.name.empty() || entity.regex.empty()) {
              r.Error(e, "a pii entity needs `name` and `regex`",
                      "e.g. { name: ORDER_REF, regex: \"ORD-[0-9]{6}\", context: [order] }");
              continue;
            }
            try {
              std::regex check(entity.regex);
            } catch (const std::regex_error& err) {
              r.Error(e["regex"],
                      fmt::format("regex '{}' does not compile: {}", entity.regex, err.what()));
              continue;
            }
            project.pii.entities.push_back(entity);
          }
        }
      }
    }
  }
  if (auto name = (*doc)["project"]) {
    if (auto v = r.Scalar(name, "project")) project.name = *v;
  } else {
    r.Error(*doc, "sluice.yaml has no `project` key", "add a line such as `project: shop`");
  }
  if (auto n = (*doc)["notifications"]) ReadChannels(r, root, n, project);
  if (auto n = (*doc)["lineage"]) ReadLineage(r, n, project.lineage);
  if (auto n = (*doc)["serve"]) ReadServe(r, n, project.serve);
  if (auto n = (*doc)["query"]) ReadQuerySettings(r, n, project.query);
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
    if (YAML::Node node = settings["metastore"]) {
      const size_t reported = diagnostics.items().size();
      auto v = r.Scalar(node, "metastore");
      constexpr size_t kMaxMetastore = 4096;
      if (diagnostics.items().size() > reported) {
        // An unset ${env:...}, reported by Scalar: its empty value is not a second error.
      } else if (v && v->empty()) {
        r.Error(node, "metastore: is empty",
                "write a path to an SQLite file or postgresql://USER@HOST/DB (an ${env:...} "
                "value must not be empty)");
      } else if (v && v->size() > kMaxMetastore) {
        r.Error(node, fmt::format("metastore: is longer than {} characters", kMaxMetastore));
      } else if (v && (v->starts_with("postgresql://") || v->starts_with("postgres://"))) {
        project.env.metastore_uri = *v;
      } else if (v && IsPostgresConninfo(*v)) {
        // Not echoed: it may hold a password. Taken as a path it would become an SQLite file
        // named after it.
        r.Error(node, "metastore: a libpq keyword string (host=... dbname=...) is not accepted",
                "write it as a URI: postgresql://USER@HOST:PORT/DB?sslmode=...");
      } else if (v && v->find("://") != std::string::npos) {
        // Not echoed: a URI may hold a password.
        std::string scheme = v->substr(0, v->find("://"));
        r.Error(node,
                fmt::format("metastore: a {} URI is not a metastore Sluice can use",
                            IsPlainName(scheme) ? scheme + "://" : "non-PostgreSQL"),
                "write a path to an SQLite file (e.g. .sluice/prod.db) or "
                "postgresql://USER@HOST/DB");
      } else if (v) {
        project.env.metastore = fs::path(*v).is_absolute() ? fs::path(*v) : root / *v;
      }
    }
    if (YAML::Node node = settings["warehouse"]) {
      Diagnostics unset_env;
      r.DivertUnsetEnv(&unset_env);
      auto v = r.Scalar(node, "warehouse");
      r.DivertUnsetEnv(nullptr);
      for (const auto& d : unset_env.items()) project.env.warehouse_unset_env.push_back(d);
      if (v && IsPostgresConninfo(*v)) {
        project.env.warehouse_uri = *v;
      } else if (v && v->find("://") != std::string::npos) {
        // Not echoed: a URI may hold a password.
        std::string scheme = v->substr(0, v->find("://"));
        r.Error(node,
                fmt::format("warehouse: a {} URI is not a warehouse Sluice can use",
                            IsPlainName(scheme) ? scheme + "://" : "non-PostgreSQL"),
                "write a DuckDB file (e.g. .sluice/prod.duckdb) or postgresql://USER@HOST/DB");
      } else if (v) {
        project.env.warehouse = fs::path(*v).is_absolute() ? fs::path(*v) : root / *v;
      }
    }
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

// Why `format` cannot be a strptime format for DuckDB's dateformat or timestampformat; "" when it
// can: a '%' must start one of DuckDB's specifiers (%d, %-d, %Y, ...) or be "%%".
std::string TimeFormatProblem(const std::string& format) {
  constexpr size_t kMaxFormat = 100;
  if (format.empty()) return "is empty";
  if (format.size() > kMaxFormat) return fmt::format("is longer than {} characters", kMaxFormat);
  if (HasControlCharacter(format)) return "holds a control character";
  static const std::string specifiers = "aAwdbhBmyYHIpMSfgnzZjUWcxXGuV";
  static const std::string unpadded = "dmyHIMSj";  // may follow '-' (%-d)
  bool directive = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    char c = i + 1 < format.size() ? format[i + 1] : '\0';
    if (c == '%') {
      ++i;
      continue;
    }
    if (c == '-' && i + 2 < format.size() && unpadded.find(format[i + 2]) != std::string::npos) {
      i += 2;
    } else if (c != '\0' && specifiers.find(c) != std::string::npos) {
      ++i;
    } else {
      return fmt::format("has '%{}', which is no strptime specifier",
                         c == '\0' ? std::string() : std::string(1, c));
    }
    directive = true;
  }
  return directive ? "" : "names no field (such as %d or %Y)";
}

// The reading options of `csv:` (encoding, limits, NULL texts, formats) into `s`.
void ReadCsvOptions(FileReader& r, const YAML::Node& csv, Source& s) {
  if (auto n = csv["encoding"]) {
    if (auto v = r.Scalar(n, "csv encoding")) {
      if (auto e = ParseCsvEncoding(*v)) {
        s.encoding = *e;
      } else if (HasControlCharacter(*v) || v->size() > 100) {
        r.Error(n, "csv encoding is not one of: " + Join(CsvEncodingNames(), ", "));
      } else {
        auto names = CsvEncodingNames();
        std::string near = Nearest(ToLower(*v), names);
        r.Error(n, fmt::format("csv encoding '{}' is not one of: {}", *v, Join(names, ", ")),
                near.empty() ? "" : fmt::format("did you mean '{}'?", near));
      }
    }
  }
  if (auto n = csv["max_line_size"]) {
    s.max_line_size = ReadCount(r, n, "csv max_line_size", 1024, int64_t{256} << 20, true)
                          .value_or(s.max_line_size);
  }
  if (auto n = csv["skip_lines"]) {
    s.skip_lines = ReadCount(r, n, "csv skip_lines", 0, 1000000).value_or(0);
  }
  if (auto n = csv["null_values"]) {
    constexpr size_t kMaxNullValues = 64, kMaxNullValue = 256;
    std::vector<std::string> values;
    if (n.IsSequence()) {
      for (const auto& item : n) {
        if (auto v = r.Scalar(item, "csv null_values item")) values.push_back(*v);
      }
    } else if (auto v = r.Scalar(n, "csv null_values")) {
      values.push_back(*v);
    }
    if (values.empty() && n.IsSequence()) {
      r.Error(n, "csv null_values is empty", "e.g. null_values: [\"\", NA, NULL]");
    } else if (values.size() > kMaxNullValues) {
      r.Error(n, fmt::format("csv null_values holds {} texts, more than {}", values.size(),
                             kMaxNullValues));
    }
    for (const auto& v : values) {
      if (v.size() > kMaxNullValue || HasControlCharacter(v)) {
        r.Error(n, fmt::format("csv null_values holds a text longer than {} bytes or with a "
                               "control character",
                               kMaxNullValue));
        values.clear();
        break;
      }
    }
    if (values.size() <= kMaxNullValues) s.null_values = values;
  }
  for (auto [key, out] : {std::pair{"date_format", &s.date_format},
                          std::pair{"timestamp_format", &s.timestamp_format}}) {
    auto n = csv[key];
    if (!n) continue;
    auto v = r.Scalar(n, fmt::format("csv {}", key));
    if (!v) continue;
    if (std::string problem = TimeFormatProblem(*v); !problem.empty()) {
      r.Error(n,
              HasControlCharacter(*v) || v->size() > 100
                  ? fmt::format("csv {} {}", key, problem)
                  : fmt::format("csv {} '{}' {}", key, *v, problem),
              std::string(key) == "date_format" ? "e.g. %d/%m/%Y" : "e.g. %d/%m/%Y %H:%M:%S");
    } else {
      *out = *v;
    }
  }
}

void LoadSource(FileReader& r, const YAML::Node& doc, Project& project) {
  r.CheckKeys(doc,
              {"source", "description", "format", "on_schema_change", "csv", "checks", "extract"},
              "a source");
  Source s;
  s.where = r.At(doc["source"]);
  auto name = r.Scalar(doc["source"], "source");
  if (!name) return;
  if (!IsPlainName(*name)) {
    r.Error(doc["source"], fmt::format("source name '{}' must be letters, digits and _", *name));
    return;
  }
  if (std::string problem = NameLengthProblem("source name", *name); !problem.empty()) {
    r.Error(doc["source"], problem);
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
      r.CheckKeys(csv,
                  {"delimiter", "quote", "header", "encoding", "max_line_size", "null_values",
                   "skip_lines", "date_format", "timestamp_format"},
                  "csv options");
      if (auto n = csv["delimiter"]) s.delimiter = r.Scalar(n, "delimiter").value_or("");
      if (auto n = csv["quote"]) s.quote = r.Scalar(n, "quote").value_or("");
      if (auto n = csv["header"]) s.header = r.Bool(n, "header");
      ReadCsvOptions(r, csv, s);
    }
  }
  if (auto checks = doc["checks"]) s.checks = ReadChecks(r, checks);
  if (auto n = doc["extract"]) ReadExtract(r, n, s);
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
    auto count = [&](const YAML::Node& n, const char* what) -> std::optional<int> {
      auto keep = r.Scalar(n, what);
      if (!keep) return std::nullopt;
      int v = -1;
      try {
        v = std::stoi(*keep);
      } catch (...) {
      }
      if (v < 0) {
        r.Error(n, fmt::format("{} must be a whole number of characters to keep, not '{}'", what,
                               *keep));
        return std::nullopt;
      }
      return v;
    };
    const YAML::Node partial = node["partial"];
    if (partial.IsMap()) {  // { keep_left: 2, keep_right: 4 }
      r.CheckKeys(partial, {"keep_left", "keep_right"}, "partial");
      spec.keep = spec.keep_left = 0;
      if (auto n = partial["keep_left"]) spec.keep_left = count(n, "keep_left").value_or(0);
      if (auto n = partial["keep_right"]) spec.keep = count(n, "keep_right").value_or(0);
      return spec;
    }
    auto keep = count(partial, "partial");
    if (!keep) return std::nullopt;
    spec.keep = *keep;
    return spec;
  }
  auto method = r.Choice(node, "mask", {"hash", "redact", "partial", "tokenize"});
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
  const YAML::Node args = it->second;
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
    step.pairs = r.Pairs(args, step.kind, &step.value_where);
    if (step.pairs.empty() && args.IsMap()) r.Error(args, step.kind + " lists nothing");
  } else if (step.kind == "filter" || step.kind == "sql") {
    if (auto v = r.Scalar(args, step.kind)) step.text = *v;
    step.value_where = {r.At(args)};
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

// A merge destination needs a key: its own, or the output's (a job merging on its key).
void CheckDestinationKey(FileReader& r, const YAML::Node& node, const std::optional<Destination>& d,
                         const std::string& output_mode,
                         const std::vector<std::string>& output_key) {
  if (!d) return;
  std::string mode = d->mode ? ToString(*d->mode) : output_mode;
  if (mode == "merge" && d->key.empty() && output_key.empty()) {
    r.Error(node, "a merge destination needs `key`, the columns that identify a row",
            "e.g. destination: { mode: merge, key: [order_id] }");
  }
  if (d->delete_missing && mode != "merge") {
    r.Error(node, "delete_missing applies to mode merge only",
            "remove it, or set `mode: merge` with a `key`");
  }
}

void LoadJob(FileReader& r, const YAML::Node& doc, Project& project) {
  r.CheckKeys(
      doc,
      {"job", "description", "input", "incremental", "output", "steps", "script", "checks", "pii"},
      "a job");
  Job job;
  job.where = r.At(doc["job"]);
  auto name = r.Scalar(doc["job"], "job");
  if (!name) return;
  if (!IsPlainName(*name)) {
    r.Error(doc["job"], fmt::format("job name '{}' must be letters, digits and _", *name));
    return;
  }
  if (std::string problem = NameLengthProblem("job name", *name); !problem.empty()) {
    r.Error(doc["job"], problem);
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
  if (auto n = doc["script"]) {
    Script script;
    script.where = r.At(n);
    if (!n.IsMap() || !n["command"]) {
      r.Error(n, "script must be a mapping with `command`",
              "e.g. script: { command: [python3, scripts/score.py] }");
    } else {
      r.CheckKeys(n, {"command", "workdir", "env", "timeout", "format"}, "script");
      ReadProgramSettings(r, n, script.program, fmt::format("the script of job '{}'", *name));
      if (auto t = n["timeout"]) {
        auto ms = ParseDurationMs(r.Scalar(t, "script timeout").value_or(""));
        if (ms && *ms >= 1000) {
          script.timeout_ms = *ms;
        } else {
          r.Error(t, "script timeout is not a duration of at least 1s", "e.g. 10m");
        }
      }
      if (auto f = n["format"]) {
        script.format =
            r.Choice(f, "script format", {"parquet", "jsonl", "csv"}).value_or(script.format);
      }
    }
    job.script = std::move(script);
  }
  if (auto n = doc["pii"])
    job.pii_auto = r.Choice(n, "pii", {"auto", "none"}).value_or("") == "auto";
  if (auto out = doc["output"]) {
    job.output.where = r.At(out);
    if (out.IsScalar()) {
      if (auto t = ReadTableName(r, out, "output")) job.output.table = *t;
    } else if (!out.IsMap()) {
      r.Error(out, "output must be a table name or a mapping with `table`");
    } else {
      r.CheckKeys(out, {"table", "mode", "key", "partition_by", "destination"}, "output");
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
      if (auto d = out["destination"]) {
        job.output.destination = ReadDestination(r, d, "destination", "table");
        CheckDestinationKey(r, d, job.output.destination, job.output.mode, job.output.key);
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
  if (auto checks = doc["checks"]) job.checks = ReadChecks(r, checks);
  if (project.jobs.count(job.name)) {
    r.Error(doc["job"], fmt::format("job '{}' is defined twice (also at {})", job.name,
                                    project.jobs[job.name].where.str()));
    return;
  }
  project.jobs[job.name] = job;
}

void LoadResourceFiles(DefinitionReader& reader, Project& project, Diagnostics& diagnostics) {
  std::vector<std::string> files;
  for (const char* dir : {"sources", "jobs"}) {
    auto listed = ListDefinitions(reader, dir, {".yaml", ".yml"}, diagnostics);
    files.insert(files.end(), listed.begin(), listed.end());
  }
  std::sort(files.begin(), files.end());
  const std::vector<std::string> kinds = {"source", "job"};
  for (const auto& rel : files) {
    auto doc = ParseYaml(reader, rel, diagnostics);
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

// A snapshot's unique_key, updated_at or check_columns, and invalidate_hard_deletes; the last
// three belong to snapshots only.
void ReadSnapshotSettings(FileReader& r, const YAML::Node& doc, Model& model) {
  auto updated = doc["updated_at"];
  auto check = doc["check_columns"];
  auto deletes = doc["invalidate_hard_deletes"];
  if (!model.snapshot) {
    for (const auto& node : {updated, check, deletes}) {
      if (node) {
        r.Error(node, "updated_at, check_columns and invalidate_hard_deletes are for snapshots",
                "say `materialized: snapshot`");
      }
    }
    return;
  }
  if (updated) {
    if (auto v = r.Scalar(updated, "updated_at")) model.updated_at = *v;
  }
  if (check) model.check_columns = r.NameList(check, "check_columns");
  if (deletes) {
    if (auto v = r.Scalar(deletes, "invalidate_hard_deletes")) {
      if (*v == "true" || *v == "false") {
        model.invalidate_hard_deletes = *v == "true";
      } else {
        r.Error(deletes, "invalidate_hard_deletes must be true or false");
      }
    }
  }
  if (model.unique_key.empty()) {
    r.Error(doc, "a snapshot needs a unique_key: the columns that name a row",
            "e.g. unique_key: [customer_id]");
  }
  if (updated && check) {
    r.Error(check, "a snapshot has updated_at or check_columns, not both",
            "updated_at: a column whose value grows when the row changes; check_columns: the "
            "columns to compare (or `all`)");
  } else if (model.updated_at.empty() && model.check_columns.empty()) {
    r.Error(doc, "a snapshot needs updated_at or check_columns",
            "updated_at: a column whose value grows when the row changes; check_columns: the "
            "columns to compare (or `all`)");
  }
}

// models/<db>/<name>.yaml (or .yml) beside the model's SQL: its checks.
void LoadModelSettings(DefinitionReader& files, const std::string& sql, Model& model,
                       Diagnostics& diagnostics) {
  for (const char* ext : {".yaml", ".yml"}) {
    std::string rel = fs::path(sql).replace_extension(ext).generic_string();
    if (!files.Exists(rel)) continue;
    auto doc = ParseYaml(files, rel, diagnostics);
    if (!doc || doc->IsNull()) continue;
    FileReader r(rel, diagnostics);
    if (!doc->IsMap()) {
      r.Error(*doc, "a model's settings file must be a mapping", "e.g. checks: [ RowCount > 0 ]");
      continue;
    }
    r.CheckKeys(*doc,
                {"description", "materialized", "unique_key", "updated_at", "check_columns",
                 "invalidate_hard_deletes", "checks", "destination"},
                "a model's settings");
    if (auto m = (*doc)["materialized"]) {
      static const std::vector<std::string> kinds = {"table", "incremental", "snapshot",
                                                     "warehouse", "warehouse_incremental"};
      auto text = r.Scalar(m, "materialized");
      if (text && std::find(kinds.begin(), kinds.end(), *text) == kinds.end()) {
        std::string near = Nearest(*text, kinds);
        r.Error(m, fmt::format("materialized: '{}' is not one of {}", *text, Join(kinds, ", ")),
                near.empty() ? "table (the default) builds it in the lake; warehouse runs its "
                               "SQL in the warehouse"
                             : fmt::format("did you mean '{}'?", near));
      } else if (text) {
        model.in_warehouse = StartsWith(*text, "warehouse");
        model.incremental = EndsWith(*text, "incremental");
        model.snapshot = *text == "snapshot";
      }
    }
    if (auto k = (*doc)["unique_key"]) {
      model.unique_key = r.NameList(k, "unique_key");
      if (!model.incremental && !model.snapshot) {
        r.Error(k, "unique_key is for incremental models and snapshots",
                "say `materialized: incremental` (or warehouse_incremental, or snapshot); a "
                "table model is rebuilt whole on every run");
      }
    }
    ReadSnapshotSettings(r, *doc, model);
    if (auto checks = (*doc)["checks"]) {
      auto read = ReadChecks(r, checks);
      model.checks.insert(model.checks.end(), read.begin(), read.end());
    }
    if (auto d = (*doc)["destination"]) {
      model.destination = ReadDestination(r, d, "destination", "table");
      CheckDestinationKey(r, d, model.destination, ModelOutputMode(model), model.unique_key);
    }
    if (!model.in_warehouse) continue;
    // Its table is in the warehouse already, and checks run over lake tables.
    if (auto d = (*doc)["destination"]) {
      r.Error(d, "a warehouse model has no destination: its table is in the warehouse already",
              fmt::format("remove `destination:`; the model builds {} in the warehouse",
                          model.table.str()));
    }
    if (auto checks = (*doc)["checks"]) {
      r.Error(checks, "a warehouse model cannot have checks: checks run over lake tables",
              "check the tables it reads (their jobs' or models' checks), or build it in the "
              "lake (materialized: table) and load it with `destination:`");
    }
  }
}

void LoadModels(DefinitionReader& reader, Project& project, Diagnostics& diagnostics) {
  std::vector<fs::path> files;
  for (const auto& rel : ListDefinitions(reader, "models", {".sql"}, diagnostics)) {
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string rel = path.generic_string();
    fs::path in_models = path.lexically_relative("models");
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
    if (std::string problem = TableNameProblem(*table); !problem.empty()) {
      diagnostics.Add({rel, 0, 0}, problem, "rename the folder or the file");
      continue;
    }
    if (kReservedDbs.count(table->db)) {
      diagnostics.Add({rel, 0, 0},
                      fmt::format("a model cannot write to the {} database", table->db),
                      ReservedHint(table->db));
      continue;
    }
    model.table = *table;
    try {
      model.sql = reader.Read(rel);
    } catch (const Error& e) {
      diagnostics.Add({rel, 0, 0}, e.what(), "", e.shown_code());
      continue;
    }
    auto braces = Braces(model.sql);
    for (const auto& b : braces) {
      Location where = LocationIn(rel, model.sql, b.offset);
      if (b.kind == Brace::kOther) {
        diagnostics.Add(where, fmt::format("cannot read '{}'", b.text),
                        "write references as {{ ref('database.table') }}; incremental models "
                        "also take {{ this }} and {{ if incremental }} ... {{ end }}");
        continue;
      }
      if (b.kind != Brace::kRef) continue;
      auto target = TableName::Parse(b.ref);
      if (!target) {
        diagnostics.Add(where, fmt::format("ref('{}') is not a table name", b.ref),
                        "write it as database.table, e.g. ref('silver.orders')");
        continue;
      }
      model.refs.push_back({*target, where, b.offset});
    }
    if (Trim(model.sql).empty()) diagnostics.Add({rel, 0, 0}, "the model is empty");
    LoadModelSettings(reader, rel, model, diagnostics);
    // {{ this }} and {{ if incremental }} ... {{ end }} blocks (one level) of incremental models.
    std::optional<Location> open;
    for (const auto& b : braces) {
      Location where = LocationIn(rel, model.sql, b.offset);
      if ((b.kind == Brace::kThis || b.kind == Brace::kIf) && !model.incremental) {
        diagnostics.Add(where, fmt::format("{} is for incremental models", b.text),
                        "say `materialized: incremental` (or warehouse_incremental) in the "
                        "model's settings file");
        if (b.kind == Brace::kIf) open = where;
      } else if (b.kind == Brace::kThis && !open) {
        diagnostics.Add(where, "{{ this }} outside {{ if incremental }} ... {{ end }}",
                        "the first run (and --full-refresh) has no table yet: read it only "
                        "inside a block");
      } else if (b.kind == Brace::kIf && open) {
        diagnostics.Add(
            where, "{{ if incremental }} blocks do not nest",
            fmt::format("end the block opened at {}:{} first", open->line, open->column));
      } else if (b.kind == Brace::kIf) {
        open = where;
      } else if (b.kind == Brace::kEnd && !open) {
        diagnostics.Add(where, "{{ end }} without {{ if incremental }}");
      } else if (b.kind == Brace::kEnd) {
        open.reset();
      }
    }
    if (open) diagnostics.Add(*open, "{{ if incremental }} has no {{ end }}");
    // Table names are read in lower case: models/Mart/X.sql and models/mart/x.sql are one table.
    if (auto other = project.models.find(model.table); other != project.models.end()) {
      diagnostics.Add(
          {rel, 0, 0},
          fmt::format("{} and {} both build {}", other->second.where.file, rel, model.table.str()),
          "each table has exactly one job or model that writes it; rename one",
          "config.duplicate_writer");
      continue;
    }
    project.models[model.table] = model;
  }
  // A settings file belongs to the model of the same name.
  for (const auto& rel : ListDefinitions(reader, "models", {".yaml", ".yml"}, diagnostics)) {
    std::string sql = fs::path(rel).replace_extension(".sql").generic_string();
    if (!reader.Exists(sql)) {
      diagnostics.Add({rel, 0, 0}, fmt::format("no model {} beside this settings file", sql),
                      "a model's settings (its checks) sit beside its SQL under the same name");
    }
  }
}

}  // namespace

Project Load(DefinitionReader& files, const std::string& env, Diagnostics& diagnostics) {
  Project project;
  project.root = files.root();
  LoadSettings(files, env, project, diagnostics);
  LoadResourceFiles(files, project, diagnostics);
  LoadModels(files, project, diagnostics);
  for (auto& [name, source] : project.sources) {
    source.pii_entities = project.pii.entities;
    ReadRuleFiles(files, source.checks);
  }
  for (auto& [name, job] : project.jobs) ReadRuleFiles(files, job.checks);
  for (auto& [table, model] : project.models) ReadRuleFiles(files, model.checks);
  return project;
}

Project Load(const fs::path& root, const std::string& env, Diagnostics& diagnostics) {
  DefinitionReader files(root);
  return Load(files, env, diagnostics);
}

std::vector<std::string> ListDefinitions(DefinitionReader& files, const std::string& dir,
                                         const std::vector<std::string>& extensions,
                                         Diagnostics& diagnostics) {
  try {
    return files.List(dir, extensions);
  } catch (const Error& e) {
    diagnostics.Add({dir, 0, 0}, e.what(), "", e.shown_code());
    return {};
  }
}

}  // namespace sluice::project
