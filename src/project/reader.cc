#include "project/reader.h"

namespace sluice::project {

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

}  // namespace sluice::project
