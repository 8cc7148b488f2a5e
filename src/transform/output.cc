#include "transform/output.h"

#include <fmt/format.h>

#include <algorithm>

#include "catalog/catalog.h"
#include "catalog/types.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::transform {

namespace {
std::vector<meta::Column> Describe(engine::Connection& conn, const std::string& select_sql) {
  auto r = conn.Query("DESCRIBE " + select_sql);
  std::vector<meta::Column> out;
  for (size_t i = 0; i < r.row_count(); ++i) out.push_back({r.GetOr(0, i), r.GetOr(1, i), false});
  return out;
}

std::string IdentList(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back(SqlIdent(n));
  return Join(quoted, ", ");
}

// Existing columns, widened and extended by the new ones; partition columns last.
std::vector<meta::Column> UnionColumns(const std::vector<meta::Column>& old_columns,
                                       const std::vector<meta::Column>& new_columns) {
  std::vector<meta::Column> out = old_columns;
  for (const auto& c : new_columns) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& o) { return o.name == c.name; });
    if (it == out.end()) {
      out.push_back(c);
    } else {
      it->type = catalog::WidenType(it->type, c.type);
    }
  }
  std::stable_partition(out.begin(), out.end(), [](const auto& c) { return !c.partition; });
  return out;
}
}  // namespace

WrittenTable WriteTable(engine::Connection& conn, lake::Store& store, meta::Metastore& metastore,
                        const OutputSpec& spec, const std::string& select_sql, int64_t run_id,
                        const RunOptions& options) {
  WrittenTable out;
  auto existing = metastore.GetTable(spec.table.db, spec.table.name);
  std::string source = "(" + select_sql + ")";
  std::string data =
      spec.arrival_column.empty()
          ? "SELECT * FROM " + source
          : fmt::format("SELECT * EXCLUDE ({}) FROM {}", SqlIdent(spec.arrival_column), source);
  auto columns = Describe(conn, data);
  // Parquet has no 128-bit integers (DuckDB would write DOUBLE): sums of integers are stored as
  // BIGINT, and a value beyond it fails the run instead of losing digits.
  std::vector<std::string> narrowed;
  for (const auto& c : columns) {
    if (c.type == "HUGEINT" || c.type == "UHUGEINT") {
      narrowed.push_back(fmt::format("CAST({0} AS BIGINT) AS {0}", SqlIdent(c.name)));
    }
  }
  if (!narrowed.empty()) {
    data = fmt::format("SELECT * REPLACE ({}) FROM ({})", Join(narrowed, ", "), data);
    columns = Describe(conn, data);
  }
  for (const auto& p : spec.partition_by) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const auto& c) { return ToLower(c.name) == ToLower(p); });
    if (it == columns.end()) {
      Fail(ErrorKind::kConfig, "partition_by column '{}' is not in the output of {} (columns: {})",
           p, spec.table.str(), [&] {
             std::vector<std::string> names;
             for (const auto& c : columns) names.push_back(c.name);
             return Join(names, ", ");
           }());
    }
    it->partition = true;
  }
  for (const auto& k : spec.key) {
    if (std::none_of(columns.begin(), columns.end(),
                     [&](const auto& c) { return ToLower(c.name) == ToLower(k); })) {
      Fail(ErrorKind::kConfig, "key column '{}' is not in the output of {}", k, spec.table.str());
    }
  }
  std::string rows_sql = data;
  bool replace_all = spec.mode == "overwrite";
  if (spec.mode == "merge") {
    // One row per key, latest wins: new rows over the table's, and among new rows the one that
    // arrived last. The table is rewritten.
    std::string old_rows =
        existing && existing->version > 0
            ? fmt::format("SELECT *, 0 AS _sluice_gen FROM {}.{} UNION ALL BY NAME ",
                          SqlIdent(spec.table.db), SqlIdent(spec.table.name))
            : "";
    std::string order = "_sluice_gen DESC";
    std::string exclude = "_sluice_gen";
    if (!spec.arrival_column.empty()) {
      order += ", " + SqlIdent(spec.arrival_column) + " DESC NULLS FIRST";
      exclude += ", " + SqlIdent(spec.arrival_column);
    }
    rows_sql = fmt::format(
        "SELECT * EXCLUDE ({}) FROM ({}SELECT *, 1 AS _sluice_gen FROM {}) "
        "QUALIFY row_number() OVER (PARTITION BY {} ORDER BY {}) = 1",
        exclude, old_rows, source, IdentList(spec.key), order);
    replace_all = true;
  }
  fs::path scratch = store.ScratchDir();
  std::string target, copy_options = "FORMAT parquet";
  if (spec.partition_by.empty()) {
    target = (scratch / fmt::format("part-{}-0.parquet", run_id)).string();
  } else {
    target = scratch.string();
    copy_options += fmt::format(", FILENAME_PATTERN 'part-{}-{{i}}', PARTITION_BY ({})", run_id,
                                IdentList(spec.partition_by));
  }
  std::string copy = fmt::format("COPY ({}) TO {} ({})", rows_sql, SqlString(target), copy_options);
  auto result =
      options.progress
          ? conn.QueryWithProgress(copy, [&](double p) { options.progress(spec.table.str(), p); })
          : conn.Query(copy);
  out.rows = result.GetInt(0, 0);

  const std::string prefix = TablePrefix(spec.table.db, spec.table.name);
  meta::TableChange& change = out.change;
  change.db = spec.table.db;
  change.name = spec.table.name;
  change.kind = spec.kind;
  change.format = "parquet";
  change.remove_all = replace_all;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(scratch)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string rel = fs::relative(path, scratch).string();
    std::string key = prefix + rel;
    uint64_t size = fs::file_size(path);
    store.PutFile(key, path);
    change.added.push_back({key, size, catalog::PartitionOf(key, prefix), -1, "active", "", ""});
  }
  std::error_code ec;
  fs::remove_all(scratch, ec);
  change.columns = (existing && !replace_all) ? UnionColumns(existing->columns, columns)
                                              : UnionColumns({}, columns);
  change.change = fmt::format("{}: {} rows in {} file{}", spec.mode, out.rows, files.size(),
                              files.size() == 1 ? "" : "s");
  return out;
}

}  // namespace sluice::transform
