#include "project/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "common/error.h"

namespace sluice::project {

namespace {

// What a file is when it is not a regular file ("" when it is).
std::string NotRegular(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "a folder, not a file";
  if (S_ISFIFO(st.st_mode)) return "a named pipe (FIFO), not a regular file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device, not a regular file";
  if (S_ISSOCK(st.st_mode)) return "a socket, not a regular file";
  return "not a regular file";
}

std::string TooBig(uint64_t bytes) {
  return fmt::format("{} bytes, over the {} MiB a project file may hold", bytes,
                     kMaxProjectFileBytes >> 20);
}

}  // namespace

std::string ReadProjectFile(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "cannot be read: {}",
                 std::strerror(errno));
  }
  if (std::string what = NotRegular(st); !what.empty())
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "{}", what);
  // O_NONBLOCK: should the file turn into a FIFO after the stat, opening it does not block.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "cannot be read: {}",
                 std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  if (::fstat(fd, &st) != 0)
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "cannot be read: {}",
                 std::strerror(errno));
  if (std::string what = NotRegular(st); !what.empty())
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "{}", what);
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "cannot be read: {}",
                   std::strerror(errno));
    if (n == 0) break;
    // A regular file may still grow while it is read: the bound holds on the bytes read.
    if (text.size() + static_cast<size_t>(n) > kMaxProjectFileBytes) {
      FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "{}",
                   TooBig(text.size() + static_cast<size_t>(n)));
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

bool InsideProject(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  fs::path base = fs::weakly_canonical(root, ec);
  if (ec) return false;
  fs::path target = fs::weakly_canonical(root / path, ec);
  if (ec) return false;
  fs::path rel = target.lexically_relative(base);
  return !rel.empty() && *rel.begin() != "..";
}

std::optional<YAML::Node> ParseYamlText(const std::string& text, const std::string& file,
                                        Diagnostics& diagnostics) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own bound (500 levels) is past ours, and its message reads "bad file".
    diagnostics.Add({file, e.mark.line + 1, e.mark.column + 1},
                    fmt::format("invalid YAML: nested more than {} levels deep", kMaxYamlDepth), "",
                    "config.yaml_syntax");
    return std::nullopt;
  } catch (const YAML::ParserException& e) {
    diagnostics.Add({file, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + e.msg, "",
                    "config.yaml_syntax");
    return std::nullopt;
  }
  if (docs.empty()) return YAML::Node();
  FileReader r(file, diagnostics);
  if (docs.size() > 1) {
    r.Error(docs[1], "a second YAML document: a project file holds one",
            "remove the `---` line and what follows, or move it to a file of its own");
    return std::nullopt;
  }
  // Walked without recursion (the depth is what is being checked); aliases are walked as often
  // as they are used, as the loaders will, so the node count bounds what an alias bomb expands
  // to.
  std::vector<std::pair<YAML::Node, int>> stack = {{docs[0], 1}};
  size_t nodes = 0;
  bool ok = true;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (++nodes > kMaxYamlNodes) {
      r.Error(node, fmt::format("the file expands to more than {} YAML nodes", kMaxYamlNodes),
              "aliases (*name) count once per use");
      return std::nullopt;
    }
    if (depth > kMaxYamlDepth) {
      r.Error(node, fmt::format("invalid YAML: nested more than {} levels deep", kMaxYamlDepth));
      return std::nullopt;
    }
    if (node.IsSequence()) {
      for (const auto& item : node) stack.emplace_back(item, depth + 1);
    } else if (node.IsMap()) {
      std::map<std::string, YAML::Node> keys;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar()) {
          auto [first, fresh] = keys.emplace(it->first.Scalar(), it->first);
          if (!fresh) {
            r.Error(it->first,
                    fmt::format("duplicate key '{}' (first at line {})", it->first.Scalar(),
                                first->second.Mark().line + 1),
                    "a mapping names each key once: YAML keeps only one of the two values");
            ok = false;
          }
        }
        stack.emplace_back(it->first, depth + 1);
        stack.emplace_back(it->second, depth + 1);
      }
    }
  }
  if (!ok) return std::nullopt;
  return docs[0];
}

std::optional<YAML::Node> ParseYaml(DefinitionReader& files, const std::string& rel,
                                    Diagnostics& diagnostics) {
  const std::string* text = nullptr;
  try {
    text = &files.Read(rel);
  } catch (const Error& e) {
    diagnostics.Add({rel, 0, 0}, e.what(), "", e.shown_code());
    return std::nullopt;
  }
  return ParseYamlText(*text, rel, diagnostics);
}

void ReadRuleFiles(DefinitionReader& files, std::vector<CheckSpec>& checks) {
  for (auto& check : checks) {
    if (check.file.empty()) continue;
    if (!files.Inside(check.file)) {
      check.file_problem = Diagnostic{
          check.where, fmt::format("rule file {} is outside the project", check.file),
          "keep rule files in the project, e.g. file: checks/orders.dqdl", "config.invalid"};
    } else if (!files.Exists(check.file)) {
      check.file_problem = Diagnostic{check.where, fmt::format("no rule file {}", check.file), "",
                                      "config.missing_file"};
    } else {
      try {
        check.file_text = files.Read(check.file);
      } catch (const Error& e) {
        check.file_problem = Diagnostic{
            check.where, fmt::format("rule file {}: {}", check.file, e.what()), "", e.shown_code()};
      }
    }
  }
}

std::optional<TableName> ReadTableName(FileReader& r, const YAML::Node& node,
                                       const std::string& what) {
  auto text = r.Scalar(node, what);
  if (!text) return std::nullopt;
  auto table = TableName::Parse(*text);
  if (!table) {
    r.Error(node, fmt::format("{} '{}' is not a table name", what, *text),
            "write it as database.table, e.g. silver.orders");
  } else if (std::string problem = TableNameProblem(*table); !problem.empty()) {
    r.Error(node, problem, "e.g. silver.orders");
    return std::nullopt;
  }
  return table;
}

std::vector<CheckSpec> ReadChecks(FileReader& r, const YAML::Node& checks) {
  std::vector<CheckSpec> out;
  if (!checks.IsSequence()) {
    r.Error(checks, "checks must be a list of { rule: ..., on_fail: ... }");
    return out;
  }
  for (const auto& c : checks) {
    CheckSpec check;
    check.where = r.At(c);
    if (c.IsScalar()) {
      check.rule = *r.Scalar(c, "rule");
    } else if (!c.IsMap()) {
      r.Error(c, "a check must be a rule text or a mapping with `rule`");
      continue;
    } else {
      r.CheckKeys(c, {"rule", "rules", "file", "on_fail", "description"}, "a check");
      if (auto rule = c["rule"] ? c["rule"] : c["rules"]) {
        check.where = r.At(rule);
        check.rule = r.Scalar(rule, "rule").value_or("");
      } else if (auto file = c["file"]) {
        check.where = r.At(file);
        check.file = r.Scalar(file, "file").value_or("");
      } else {
        r.Error(c, "a check needs `rule` (or `rules: \"Rules = [...]\"`, or `file:`)",
                "e.g. `rule: IsComplete \"order_id\"`");
        continue;
      }
      if (auto f = c["on_fail"]) {
        check.on_fail = r.Choice(f, "on_fail", {"fail", "warn", "quarantine"}).value_or("fail");
      }
    }
    out.push_back(check);
  }
  return out;
}

std::string WarehouseNameProblem(const std::string& what, const std::string& name) {
  if (name.empty()) return what + " is empty";
  if (name.size() > kMaxNameLength) {
    return fmt::format("{} '{}...' is longer than {} bytes (PostgreSQL would cut it short)", what,
                       name.substr(0, 20), kMaxNameLength);
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return fmt::format("{} holds a control character", what);
  }
  return "";
}

std::optional<Destination> ReadDestination(FileReader& r, const YAML::Node& node,
                                           const std::string& what, const char* target_key,
                                           const std::vector<std::string>& extra_keys) {
  Destination d;
  d.where = r.At(node);
  bool ok = true;
  auto target = [&](const YAML::Node& n) {
    auto text = r.Scalar(n, fmt::format("{} {}", what, target_key));
    if (!text) return false;
    size_t dot = text->find('.');
    if (dot == std::string::npos || text->find('.', dot + 1) != std::string::npos) {
      r.Error(n, fmt::format("{} {} '{}' is not SCHEMA.TABLE", what, target_key, *text),
              "e.g. analytics.daily_revenue");
      return false;
    }
    d.schema = text->substr(0, dot);
    d.table = text->substr(dot + 1);
    for (const auto& [part, name] : {std::pair{"schema", d.schema}, {"table", d.table}}) {
      if (auto problem = WarehouseNameProblem(fmt::format("{} {}", what, part), name);
          !problem.empty()) {
        r.Error(n, problem);
        return false;
      }
    }
    return true;
  };
  if (node.IsScalar()) {
    if (!target(node)) return std::nullopt;
    return d;
  }
  if (!node.IsMap()) {
    r.Error(node, fmt::format("{} must be a mapping such as {{ {}: analytics.orders, mode: merge, "
                              "key: [order_id] }}",
                              what, target_key));
    return std::nullopt;
  }
  std::vector<std::string> keys = {target_key, "mode", "key", "delete_missing"};
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  r.CheckKeys(node, keys, what);
  if (auto n = node[target_key]) ok = target(n) && ok;
  if (auto n = node["mode"]) {
    if (auto m = r.Choice(n, fmt::format("{} mode", what), {"append", "overwrite", "merge"})) {
      d.mode = ParseLoadMode(*m);
    } else {
      ok = false;
    }
  }
  if (auto n = node["key"]) {
    d.key = r.NameList(n, fmt::format("{} key", what));
    for (const auto& k : d.key) {
      if (auto problem = WarehouseNameProblem("key column", k); !problem.empty()) {
        r.Error(n, problem);
        ok = false;
      }
    }
  }
  if (auto n = node["delete_missing"]) {
    d.delete_missing = r.Bool(n, "delete_missing").value_or(false);
  }
  if (d.delete_missing && d.mode && *d.mode != LoadMode::kMerge) {
    r.Error(node["delete_missing"], "delete_missing applies to mode merge only",
            "remove it, or set `mode: merge` with a `key`");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return d;
}

}  // namespace sluice::project
