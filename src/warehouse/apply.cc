#include "warehouse/apply.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::warehouse {

std::string EnsureSluiceTable(Warehouse& wh, const std::string& name, const std::string& columns) {
  Target table{"sluice", name};
  if (!wh.Columns(table)) {
    wh.Execute("CREATE SCHEMA IF NOT EXISTS " + Quote(table.schema));
    wh.Execute(fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", table.sql(), columns));
  }
  return table.sql();
}

std::vector<std::string> ColumnNames(const std::vector<Column>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

std::string QuotedList(const std::vector<std::string>& names, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(prefix + Quote(n));
  return Join(out, ", ");
}

std::string KeyMatch(const std::vector<std::string>& key, const std::string& a,
                     const std::string& b) {
  std::vector<std::string> out;
  for (const auto& k : key) out.push_back(fmt::format("{}.{} = {}.{}", a, Quote(k), b, Quote(k)));
  return Join(out, " AND ");
}

std::string KeyIndexName(const Target& target) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : target.str()) h = (h ^ c) * 1099511628211ULL;
  return fmt::format("sluice_key_{:016x}", h);
}

std::optional<std::pair<std::string, std::string>> RepeatedKey(
    Warehouse& wh, const std::string& from, const std::vector<std::string>& key) {
  std::vector<std::string> texts, present;
  for (const auto& k : key) {
    texts.push_back(fmt::format("CAST({} AS VARCHAR)", Quote(k)));
    present.push_back(Quote(k) + " IS NOT NULL");
  }
  auto dup = wh.Query(fmt::format(
      "SELECT {}, CAST(count(*) AS VARCHAR) FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 "
      "ORDER BY {} LIMIT 1",
      Join(texts, ", "), from, Join(present, " AND "), QuotedList(key), QuotedList(key)));
  if (dup.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (size_t i = 0; i < key.size(); ++i) {
    parts.push_back(fmt::format("{}={}", key[i], dup[0][i].value_or("NULL")));
  }
  return std::pair{Join(parts, ", "), dup[0][key.size()].value_or("?")};
}

std::optional<std::pair<std::string, std::string>> RepeatedStageKey(
    Warehouse& wh, const std::string& stage, const std::string& index,
    const std::vector<std::string>& key) {
  try {
    wh.Execute(
        fmt::format("CREATE UNIQUE INDEX {} ON {} ({})", Quote(index), stage, QuotedList(key)));
    return std::nullopt;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInterrupted) throw;
    if (auto dup = RepeatedKey(wh, stage, key)) return dup;
    throw;
  }
}

int64_t NullKeyRows(Warehouse& wh, const std::string& from, const std::vector<std::string>& key) {
  std::vector<std::string> nulls;
  for (const auto& k : key) nulls.push_back(Quote(k) + " IS NULL");
  auto rows = wh.Query(
      fmt::format("SELECT CAST(count(*) AS VARCHAR) FROM {} WHERE {}", from, Join(nulls, " OR ")));
  return rows.empty() ? 0 : std::stoll(rows[0][0].value_or("0"));
}

Aliases MergeAliases(const std::vector<Column>& columns) {
  std::set<std::string> taken;
  for (const auto& c : columns) taken.insert(ToLower(c.name));
  auto alias = [&](std::string a) {
    while (taken.count(a)) a += "_";
    taken.insert(a);
    return Quote(a);
  };
  Aliases out;
  out.stage = alias("s");
  out.target = alias("t");
  return out;
}

Warehouse::Upserted MergeRows(Warehouse& wh, const Target& target, const std::string& stage,
                              const std::vector<std::string>& names,
                              const std::vector<std::string>& key, const Aliases& as) {
  if (auto upserted = wh.Upsert(target, stage, names, key)) return *upserted;
  const std::string &s = as.stage, &t = as.target;
  Warehouse::Upserted out;
  std::vector<std::string> sets, differs;
  for (const auto& n : names) {
    if (std::find(key.begin(), key.end(), n) != key.end()) continue;
    sets.push_back(fmt::format("{} = {}.{}", Quote(n), s, Quote(n)));
    differs.push_back(fmt::format("{}.{} IS DISTINCT FROM {}.{}", t, Quote(n), s, Quote(n)));
  }
  if (!sets.empty()) {
    out.updated = wh.Execute(fmt::format("UPDATE {} AS {} SET {} FROM {} AS {} WHERE {} AND ({})",
                                         target.sql(), t, Join(sets, ", "), stage, s,
                                         KeyMatch(key, t, s), Join(differs, " OR ")));
  }
  out.inserted = wh.Execute(fmt::format(
      "INSERT INTO {} ({}) SELECT {} FROM {} AS {} WHERE NOT EXISTS (SELECT 1 FROM {} AS {} "
      "WHERE {})",
      target.sql(), QuotedList(names), QuotedList(names, s + "."), stage, s, target.sql(), t,
      KeyMatch(key, t, s)));
  return out;
}

}  // namespace sluice::warehouse
