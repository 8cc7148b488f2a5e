// sluice profile TABLE [--suggest FILE]: per-column statistics, and a starting DQDL rule set.
#include <fmt/format.h>

#include <iostream>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/support.h"
#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "quality/profile.h"

namespace sluice::cli {

using nlohmann::json;

int Profile(const Global& g, const std::string& table_text, const std::string& suggest,
            const std::string& format) {
  auto ws = Open(g);
  auto table = CatalogTable(ws, table_text);
  engine::Database db;
  engine::Connection conn(db);
  lake::Fetched held;
  catalog::AttachTables(conn, *ws.metastore, *ws.store, held);
  auto profile = quality::Profile(conn, table.str());
  if (!suggest.empty()) {
    fs::path out = fs::path(suggest).is_absolute() ? fs::path(suggest) : Root(g) / suggest;
    std::error_code ec;
    if (fs::exists(out, ec)) {
      FailWithCode(ErrorKind::kUsage, "usage.file_exists",
                   "{} exists; pick another file or remove it first", suggest);
    }
    if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
    WriteFileAtomic(out, quality::SuggestRules(table.str(), profile));
  }
  if (format == "json") {
    json cols = json::array();
    for (const auto& c : profile.columns) {
      json top = json::array();
      for (const auto& v : c.top_values) top.push_back({{"value", v.value}, {"count", v.count}});
      cols.push_back({{"name", c.name},
                      {"type", c.type},
                      {"rows", c.rows},
                      {"nulls", c.nulls},
                      {"distinct", c.distinct},
                      {"min", c.min ? json(*c.min) : json(nullptr)},
                      {"max", c.max ? json(*c.max) : json(nullptr)},
                      {"mean", c.mean ? json(*c.mean) : json(nullptr)},
                      {"stddev", c.stddev ? json(*c.stddev) : json(nullptr)},
                      {"min_length", c.min_length ? json(*c.min_length) : json(nullptr)},
                      {"max_length", c.max_length ? json(*c.max_length) : json(nullptr)},
                      {"top_values", top}});
    }
    PrintJson({{"table", table.str()}, {"rows", profile.rows}, {"columns", cols}});
    return 0;
  }
  std::cout << fmt::format("{}: {} rows\n\n", table.str(), HumanCount(profile.rows));
  TextTable t{{"column", "type", "nulls", "distinct", "min", "max", "mean", "length", "top values"},
              {false, false, true, true, false, false, true, false, false},
              {}};
  for (const auto& c : profile.columns) {
    std::vector<std::string> top;
    for (const auto& v : c.top_values) top.push_back(fmt::format("{} ({})", v.value, v.count));
    std::string top_text = Join(top, ", ");
    if (top_text.size() > 60) top_text = top_text.substr(0, 57) + "...";
    auto cut = [](const std::optional<std::string>& v) {
      if (!v) return std::string();
      return v->size() > 24 ? v->substr(0, 21) + "..." : *v;
    };
    t.rows.push_back({c.name, c.type, HumanCount(c.nulls), HumanCount(c.distinct), cut(c.min),
                      cut(c.max), c.mean ? fmt::format("{:.4g}", *c.mean) : "",
                      c.min_length ? fmt::format("{}-{}", *c.min_length, *c.max_length) : "",
                      top_text});
  }
  t.Print();
  if (!suggest.empty()) {
    std::cout << fmt::format(
        "\nwrote a starting rule set to {}; check it with `sluice check {} "
        "--rules {}`\n",
        suggest, table.str(), suggest);
  }
  return 0;
}

}  // namespace sluice::cli
