#include "catalog/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "catalog/csv_text.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

using nlohmann::json;

char PatternCharacter(const std::string& path) {
  auto at = path.find_first_of("*?[");
  return at == std::string::npos ? 0 : path[at];
}

std::string FormatOfKey(const std::string& key) {
  std::string name = ToLower(key.substr(key.rfind('/') + 1));
  for (const char* c : {".gz", ".gzip", ".zst"}) {
    if (EndsWith(name, c)) name = name.substr(0, name.size() - std::string(c).size());
  }
  for (const char* e : {".csv", ".tsv", ".txt"}) {
    if (EndsWith(name, e)) return "csv";
  }
  for (const char* e : {".json", ".jsonl", ".ndjson"}) {
    if (EndsWith(name, e)) return "json";
  }
  if (EndsWith(name, ".parquet") || EndsWith(name, ".pq")) return "parquet";
  return "";
}

std::string PartitionOf(const std::string& key, const std::string& prefix) {
  std::vector<std::string> parts;
  auto segments = Split(key.substr(prefix.size()), '/');
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i].find('=') != std::string::npos) parts.push_back(segments[i]);
  }
  return Join(parts, "/");
}

std::optional<std::vector<std::string>> OwnColumns(const std::string& columns) {
  json names = json::parse(columns.empty() ? "null" : columns, nullptr, false);
  if (!names.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (!n.is_string()) return std::nullopt;
    out.push_back(n.get<std::string>());
  }
  return out;
}

std::string Visible(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return out;
}

size_t ControlCharacterAt(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) return i;
  }
  return std::string_view::npos;
}

std::string PartitionValueType(const std::string& value) {
  static const std::regex int_re(R"(-?\d{1,18})");
  static const std::regex date_re(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  if (std::regex_match(value, int_re)) return "BIGINT";
  if (std::regex_match(value, m, date_re)) {
    std::chrono::year_month_day day{std::chrono::year(std::stoi(m[1])),
                                    std::chrono::month(std::stoul(m[2])),
                                    std::chrono::day(std::stoul(m[3]))};
    return day.ok() ? "DATE" : "";
  }
  return "VARCHAR";
}

std::vector<meta::Column> PartitionColumns(const std::string& partition, std::string& fault) {
  std::vector<meta::Column> columns;
  if (partition.empty()) return columns;
  std::set<std::string> keys;
  for (const auto& kv : Split(partition, '/')) {
    auto eq = kv.find('=');
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key.empty()) {
      fault = fmt::format("the folder {} has no name before '='; name it key=value", kv);
    } else if (value.find('=') != std::string::npos) {
      fault = fmt::format("the folder {} holds '=' twice; a partition folder is key=value", kv);
    } else if (!keys.insert(ToLower(key)).second) {
      fault = fmt::format("the partition {} appears twice in the path ({})", key, partition);
    } else if (std::string type = PartitionValueType(value); type.empty()) {
      fault = fmt::format("the folder {}: {} is not a valid date (YYYY-MM-DD)", kv, value);
    } else {
      columns.push_back({key, type, true});
      continue;
    }
    return {};
  }
  return columns;
}

namespace {
std::string PathList(const std::vector<std::string>& keys, const lake::Fetched& local) {
  return SqlStringList(local.Paths(keys));
}

std::string EmptyRelation(const meta::Table& table) {
  std::vector<std::string> cols;
  for (const auto& c : table.columns) {
    cols.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
  }
  if (cols.empty()) cols.push_back("NULL AS empty");
  return fmt::format("(SELECT {} WHERE false)", Join(cols, ", "));
}

std::string TypeMap(const std::vector<meta::Column>& columns, bool partitions) {
  std::vector<std::string> items;
  for (const auto& c : columns) {
    if (c.partition == partitions) items.push_back(SqlString(c.name) + ": " + SqlString(c.type));
  }
  return "{" + Join(items, ", ") + "}";
}
}  // namespace

namespace {
std::string CsvArgs(const meta::Table& table, const json& opts,
                    const std::vector<std::string>& only, const ScanOptions& options) {
  std::vector<std::string> args;
  if (only.empty()) {
    // Files of unknown header: matched by name (DuckDB sniffs each one).
    args.push_back("types = " + TypeMap(table.columns, false));
    args.push_back("union_by_name = true");
  } else {
    // The file's own columns in its order, typed as the table says: nothing left to sniff.
    std::vector<std::string> items;
    for (const auto& name : only) {
      auto it =
          std::find_if(table.columns.begin(), table.columns.end(),
                       [&](const meta::Column& c) { return ToLower(c.name) == ToLower(name); });
      items.push_back(SqlString(name) + ": " +
                      SqlString(it == table.columns.end() ? "VARCHAR" : it->type));
    }
    args.push_back("columns = {" + Join(items, ", ") + "}");
    args.push_back("auto_detect = false");
    // Unsniffed, DuckDB takes no escape: a doubled quote ("we""ird") would then open a quote
    // that never closes and swallow the rest of the file. RFC 4180 escapes a quote by doubling.
    if (!opts.contains("escape")) {
      args.push_back("escape = " + SqlString(opts.value("quote", std::string("\""))));
    }
  }
  for (const char* key : {"delim", "quote", "escape", "dateformat", "timestampformat"}) {
    if (opts.contains(key)) {
      args.push_back(fmt::format("{} = {}", key, SqlString(opts[key].get<std::string>())));
    }
  }
  if (opts.contains("header")) {
    args.push_back(std::string("header = ") + (opts["header"].get<bool>() ? "true" : "false"));
  }
  for (auto& arg : ReadingArgs(opts)) args.push_back(std::move(arg));
  if (options.capture_rejects) {
    args.push_back("store_rejects = true");
  } else {
    // Raw files may hold malformed lines; querying bronze skips them (jobs quarantine them).
    args.push_back("ignore_errors = true");
  }
  return Join(args, ", ");
}
}  // namespace

std::string ScanSql(const meta::Table& table, const std::vector<meta::TableFile>& files,
                    const lake::Fetched& local, const ScanOptions& options) {
  if (files.empty()) return EmptyRelation(table);
  json opts = json::parse(table.options.empty() ? "{}" : table.options, nullptr, false);
  if (opts.is_discarded()) opts = json::object();
  bool hive = false;
  for (const auto& c : table.columns) hive = hive || c.partition;
  std::string common =
      hive ? "hive_partitioning = true, hive_types = " + TypeMap(table.columns, true)
           : "hive_partitioning = false";
  if (options.file_index) common += ", filename = '_sluice_path'";
  std::vector<std::string> scans;
  // Columns of the catalog's schema that no file holds (the files that had one were taken out
  // of the table since): NULL, so the table reads as the catalog describes it.
  std::vector<std::string> absent;
  if (table.format == "csv") {
    // One read_csv per distinct header; files with an unknown header are read by name.
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& f : files) groups[f.columns].push_back(f.key);
    std::set<std::string> held;
    bool known = true;
    for (const auto& [columns, keys] : groups) {
      auto names = OwnColumns(columns);
      known = known && names;
      std::vector<std::string> only = names.value_or(std::vector<std::string>{});
      for (const auto& n : only) held.insert(ToLower(n));
      scans.push_back(fmt::format("SELECT * FROM read_csv({}, {}, {})", PathList(keys, local),
                                  common, CsvArgs(table, opts, only, options)));
    }
    for (const auto& c : table.columns) {
      if (known && !c.partition && !held.count(ToLower(c.name))) {
        absent.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
      }
    }
  } else {
    std::vector<std::string> keys;
    for (const auto& f : files) keys.push_back(f.key);
    if (table.format == "json") {
      scans.push_back(fmt::format("SELECT * FROM read_json({}, {}, columns = {}, format = 'auto')",
                                  PathList(keys, local), common, TypeMap(table.columns, false)));
    } else {
      scans.push_back(fmt::format("SELECT * FROM read_parquet({}, {}, union_by_name = true)",
                                  PathList(keys, local), common));
    }
  }
  std::string scan = "(" + Join(scans, " UNION ALL BY NAME ") + ")";
  if (!absent.empty()) scan = fmt::format("(SELECT *, {} FROM {})", Join(absent, ", "), scan);
  if (!options.file_index) return scan;
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  return fmt::format(
      "(SELECT * EXCLUDE (_sluice_path), CAST(list_position({}, _sluice_path) AS INTEGER) "
      "AS _sluice_file FROM {})",
      PathList(keys, local), scan);
}

bool HoldsData(engine::Connection& conn, const meta::Table& table, const std::string& key,
               const lake::Fetched& local) {
  std::string path = SqlString(local.Path(key));
  if (table.format == "parquet") {
    auto r = conn.Query(
        fmt::format("SELECT coalesce(sum(num_rows), 0) > 0 FROM parquet_file_metadata({})", path));
    return r.GetOr(0, 0) == "true";
  }
  json opts = json::parse(table.options.empty() ? "{}" : table.options, nullptr, false);
  bool csv = table.format == "csv" && !opts.is_discarded();
  bool header = csv && opts.value("header", true);
  // Whole lines (no quoting, a delimiter no text uses), so a stray quote cannot hide the rest;
  // a CSV file's encoding, lines skipped before its header and longest line.
  std::vector<std::string> reading = csv ? ReadingArgs(opts, false) : std::vector<std::string>{};
  auto r = conn.Query(fmt::format(
      "SELECT count(*) FROM (SELECT 1 FROM read_csv({}, header = false, auto_detect = false, "
      "columns = {{'line': 'VARCHAR'}}, delim = chr(31), quote = '', escape = '', "
      "strict_mode = false, ignore_errors = true{}) WHERE trim(line) NOT IN ({}) LIMIT 2)",
      path, reading.empty() ? "" : ", " + Join(reading, ", "),
      table.format == "json" ? "'', '[', ']', '[]'" : "''"));
  return std::stoll(r.GetOr(0, 0)) > (header ? 1 : 0);
}

namespace {
// The view reads local copies of `files`, added to `held`.
void CreateView(engine::Connection& conn, const meta::Table& table,
                const std::vector<meta::TableFile>& files, const lake::Store& store,
                lake::Fetched& held) {
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  FetchForReading(store, table, keys, held);
  conn.Execute(fmt::format("CREATE OR REPLACE VIEW {}.{} AS SELECT * FROM {}", SqlIdent(table.db),
                           SqlIdent(table.name), ScanSql(table, files, held)));
}

// Column types whose Parquet statistics Sluice takes as the least and greatest value: exact
// values with one order everywhere. Not floating point (NaN, -0.0), not strings (writers may
// truncate them, and order them differently), not time zones.
bool RangeType(const std::string& type) {
  static const std::set<std::string> types = {"TINYINT", "SMALLINT", "INTEGER",   "BIGINT",
                                              "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                                              "UBIGINT", "UHUGEINT", "DATE",      "TIMESTAMP"};
  return types.count(type) > 0 || type.rfind("DECIMAL(", 0) == 0;
}
}  // namespace

quality::TableFacts AttachWithFacts(engine::Connection& conn, meta::CatalogStore& metastore,
                                    const lake::Store& store, const std::string& db,
                                    const std::string& name, lake::Fetched& held) {
  auto table = metastore.GetTable(db, name);
  if (!table) return {};
  table->columns = metastore.TableColumns(table->id, table->version);
  auto files = metastore.TableFiles(table->id, table->version, false);
  CreateView(conn, *table, files, store, held);
  if (table->format != "parquet" || files.empty()) return {};
  // Per column: its chunks (a column of a row group of a file), those with a NULL count, their
  // sum, and for range types the least and greatest value with how many chunks have them. A
  // fact holds only if every chunk of every file gives it (union_by_name lets files lack
  // columns; a hive partition column is in no file at all).
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  auto described = conn.Query(
      fmt::format("DESCRIBE SELECT * FROM {}.{}", SqlIdent(table->db), SqlIdent(table->name)));
  std::vector<std::pair<std::string, std::string>> columns;  // name, type
  std::vector<std::string> figures = {
      "(SELECT count(*) FROM (SELECT DISTINCT file_name, row_group_id FROM m))"};
  for (size_t i = 0; i < described.row_count(); ++i) {
    std::string column = described.GetOr(0, i), type = described.GetOr(1, i);
    // Plain values only: a nested column's chunks are its leaves ("s, x"; a legacy repeated
    // field's null count counts empty lists), and a name holding ", " could be such a leaf's.
    bool nested = type.find('[') != std::string::npos || type.rfind("STRUCT", 0) == 0 ||
                  type.rfind("MAP", 0) == 0 || type.rfind("UNION", 0) == 0;
    if (nested || column.find(", ") != std::string::npos) continue;
    std::string of = fmt::format(" FILTER (WHERE path_in_schema = {})", SqlString(column));
    figures.push_back("count(*)" + of);
    figures.push_back("count(stats_null_count)" + of);
    figures.push_back("sum(stats_null_count)" + of);
    if (RangeType(type)) {
      for (const char* end : {"min", "max"}) {
        std::string value = fmt::format("TRY_CAST(stats_{}_value AS {})", end, type);
        figures.push_back(fmt::format("CAST({}({}){} AS VARCHAR)", end, value, of));
        figures.push_back(fmt::format("count({}){}", value, of));
      }
    }
    columns.emplace_back(column, type);
  }
  auto res = conn.Query(fmt::format(
      "WITH m AS MATERIALIZED (SELECT file_name, row_group_id, path_in_schema, stats_null_count, "
      "stats_min_value, stats_max_value FROM parquet_metadata({})) SELECT {} FROM m",
      PathList(keys, held), Join(figures, ", ")));
  std::string chunks = res.GetOr(0, 0);
  quality::TableFacts facts;
  if (chunks == "0") return facts;  // no row group: no rows, nothing to save
  size_t at = 1;
  for (const auto& [column, type] : columns) {
    bool everywhere = res.GetOr(at, 0) == chunks;
    quality::ColumnFacts f;
    if (everywhere && res.GetOr(at + 1, 0) == chunks) f.nulls = std::stoll(res.GetOr(at + 2, 0));
    at += 3;
    if (RangeType(type)) {
      if (everywhere && res.GetOr(at + 1, 0) == chunks && res.GetOr(at + 3, 0) == chunks) {
        f.min = fmt::format("CAST({} AS {})", SqlString(res.GetOr(at, 0)), type);
        f.max = fmt::format("CAST({} AS {})", SqlString(res.GetOr(at + 2, 0)), type);
      }
      at += 4;
    }
    if (f.nulls || f.min) facts[column] = f;
  }
  return facts;
}

std::vector<TableListing> ListTables(meta::CatalogStore& metastore) {
  std::vector<TableListing> out;
  for (auto table : metastore.ListTables()) {
    table.columns = metastore.TableColumns(table.id, table.version);
    auto files = metastore.TableFiles(table.id, table.version, false);
    out.push_back({std::move(table), std::move(files)});
  }
  return out;
}

std::vector<Unreadable> AttachTables(engine::Connection& conn, meta::CatalogStore& metastore,
                                     const lake::Store& store, lake::Fetched& held) {
  return AttachTables(conn, ListTables(metastore), store, held);
}

std::vector<Unreadable> AttachTables(engine::Connection& conn,
                                     const std::vector<TableListing>& tables,
                                     const lake::Store& store, lake::Fetched& held) {
  std::vector<Unreadable> unreadable;
  std::set<std::string> schemas;
  for (const auto& [table, files] : tables) {
    if (schemas.insert(table.db).second) {
      conn.Execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", SqlIdent(table.db)));
    }
    try {
      CreateView(conn, table, files, store, held);
    } catch (const Error& e) {
      unreadable.push_back({table.full_name(), Split(e.what(), '\n').front()});
    }
  }
  return unreadable;
}

}  // namespace sluice::catalog
