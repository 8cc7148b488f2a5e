#include "transform/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/types.h"
#include "common/error.h"
#include "common/strings.h"
#include "lake/zones.h"

namespace sluice::transform {

using json = nlohmann::json;

namespace {
std::vector<meta::Column> Describe(engine::Connection& conn, const std::string& select_sql) {
  auto r = engine::Unquoted([&] { return conn.Query("DESCRIBE " + select_sql); });
  std::vector<meta::Column> out;
  for (size_t i = 0; i < r.row_count(); ++i) out.push_back({r.GetOr(0, i), r.GetOr(1, i), false});
  return out;
}

std::string ColumnNames(const std::vector<meta::Column>& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return Join(names, ", ");
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
      it->partition = c.partition;
    }
  }
  std::stable_partition(out.begin(), out.end(), [](const auto& c) { return !c.partition; });
  return out;
}

std::string PathList(const std::vector<fs::path>& files) {
  std::vector<std::string> paths(files.begin(), files.end());
  return SqlStringList(paths);
}

void RemoveDir(const fs::path& dir) {
  std::error_code ec;
  if (!dir.empty()) fs::remove_all(dir, ec);
}

// COPY `rows_sql` into `dir` as Parquet, partitioned by `partition_by`; the files written, in
// name order, and the number of rows.
std::pair<std::vector<fs::path>, int64_t> Copy(engine::Connection& conn,
                                               const std::string& rows_sql, const fs::path& dir,
                                               const std::vector<std::string>& partition_by,
                                               int64_t run_id, const std::string& what,
                                               const RunOptions& options) {
  std::string target, copy_options = "FORMAT parquet", rows = rows_sql;
  if (partition_by.empty()) {
    target = (dir / fmt::format("part-{}-0.parquet", run_id)).string();
  } else {
    target = dir.string();
    copy_options += fmt::format(", FILENAME_PATTERN 'part-{}-{{i}}', PARTITION_BY ({})", run_id,
                                SqlIdentList(partition_by));
    // A folder k=NULL reads back as a missing value, and a text 'NULL' would share it with the
    // real NULLs (one file overwriting the other): such a value stops the run.
    std::vector<std::string> guarded;
    for (const auto& p : partition_by) {
      guarded.push_back(fmt::format(
          "CASE WHEN upper(CAST({0} AS VARCHAR)) IN ('NULL', '__HIVE_DEFAULT_PARTITION__') THEN "
          "error({1}) ELSE {0} END AS {0}",
          SqlIdent(p),
          SqlString(fmt::format("partition column {} holds the text 'NULL', which its folder "
                                "({}=NULL) cannot tell from a missing value; derive another "
                                "value for it (e.g. coalesce or a replace in a derive step)",
                                p, p))));
    }
    rows = fmt::format("SELECT * REPLACE ({}) FROM ({})", Join(guarded, ", "), rows_sql);
  }
  std::string copy = fmt::format("COPY ({}) TO {} ({})", rows, SqlString(target), copy_options);
  engine::Connection::ProgressFn progress;
  if (options.progress) progress = [&](double p) { options.progress(what, p); };
  auto result = engine::Unquoted([&] { return conn.QueryWithProgress(copy, progress); });
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return {files, result.GetInt(0, 0)};
}
}  // namespace

Batch::~Batch() { RemoveDir(dir_); }

std::string Batch::ScanSql() const {
  if (files_.empty()) {
    std::vector<std::string> cols;
    for (const auto& c : columns_) {
      cols.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, SqlIdent(c.name)));
    }
    return fmt::format("(SELECT {} WHERE false)", Join(cols, ", "));
  }
  bool hive =
      std::any_of(columns_.begin(), columns_.end(), [](const auto& c) { return c.partition; });
  std::string scan = fmt::format("read_parquet({}, hive_partitioning = {})", PathList(files_),
                                 hive ? "true" : "false");
  if (!keeps_arrival_) return scan;
  return fmt::format("(SELECT * EXCLUDE (_sluice_arrival) FROM {})", scan);
}

std::unique_ptr<Batch> WriteBatch(engine::Connection& conn, lake::Store& store,
                                  const OutputSpec& spec, const std::string& select_sql,
                                  int64_t run_id, const RunOptions& options) {
  std::unique_ptr<Batch> batch(new Batch());
  batch->dir_ = store.ScratchDir();
  std::string source = "(" + select_sql + "\n)";
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
  std::string narrow = narrowed.empty() ? "" : " REPLACE (" + Join(narrowed, ", ") + ")";
  for (auto& c : columns) {
    if (c.type == "HUGEINT" || c.type == "UHUGEINT") c.type = "BIGINT";
  }
  for (const auto& p : spec.partition_by) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const auto& c) { return ToLower(c.name) == ToLower(p); });
    if (it == columns.end()) {
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "partition_by column '{}' is not in the output of {} (columns: {})", p,
                   spec.table.str(), ColumnNames(columns));
    }
    it->partition = true;
  }
  for (const auto& k : spec.key) {
    if (std::none_of(columns.begin(), columns.end(),
                     [&](const auto& c) { return ToLower(c.name) == ToLower(k); })) {
      FailWithCode(ErrorKind::kConfig, "config.output_mismatch",
                   "key column '{}' is not in the output of {} (columns: {})", k, spec.table.str(),
                   ColumnNames(columns));
    }
  }
  std::string rows_sql;
  std::vector<std::string> partition_by;
  if (spec.mode == "merge") {
    // The merge in Publish needs to know which row arrived last; the batch keeps that, flat.
    rows_sql = spec.arrival_column.empty()
                   ? fmt::format("SELECT *{}, CAST(NULL AS INTEGER) AS _sluice_arrival FROM {}",
                                 narrow, source)
                   : fmt::format("SELECT * EXCLUDE ({0}){1}, {0} AS _sluice_arrival FROM {2}",
                                 SqlIdent(spec.arrival_column), narrow, source);
    batch->keeps_arrival_ = true;
  } else {
    rows_sql = fmt::format("SELECT *{} FROM ({})", narrow, data);
    partition_by = spec.partition_by;
  }
  std::tie(batch->files_, batch->rows_) =
      Copy(conn, rows_sql, batch->dir_, partition_by, run_id, spec.table.str(), options);
  batch->columns_ = UnionColumns({}, columns);
  return batch;
}

void CheckMergeKey(const std::optional<meta::Table>& existing, const OutputSpec& spec) {
  json recorded =
      existing ? json::parse(existing->options.empty() ? "{}" : existing->options, nullptr, false)
               : json::object();
  if (existing && existing->version > 0 && spec.mode != "overwrite" && !spec.rebuild &&
      recorded.is_object() && recorded.contains("merge_key") && recorded["merge_key"].is_array() &&
      recorded["merge_key"] != json(spec.key)) {
    std::vector<std::string> had;
    for (const auto& k : recorded["merge_key"])
      had.push_back(k.is_string() ? k.get<std::string>() : k.dump());
    FailWithCode(ErrorKind::kConfig, "config.key_change",
                 "{} is merged on [{}], and this run {}\n  hint: run once with --full-refresh "
                 "to rebuild the table on the new key",
                 spec.table.str(), Join(had, ", "),
                 spec.key.empty() ? fmt::format("would {} rows without a key", spec.mode)
                                  : fmt::format("merges on [{}]", Join(spec.key, ", ")));
  }
}

meta::TableChange Publish(engine::Connection& conn, lake::Store& store,
                          meta::CatalogStore& metastore, const OutputSpec& spec, const Batch& batch,
                          int64_t run_id, const RunOptions& options) {
  auto existing = metastore.GetTable(spec.table.db, spec.table.name);
  if (existing && existing->version > 0 && (spec.mode == "append" || spec.partitions) &&
      !spec.rebuild) {
    // Files of one table share their key=value folders, or the table cannot be read.
    std::vector<std::string> had, has;
    for (const auto& c : existing->columns) {
      if (c.partition) had.push_back(c.name);
    }
    for (const auto& c : batch.columns_) {
      if (c.partition) has.push_back(c.name);
    }
    if (had != has) {
      FailWithCode(
          ErrorKind::kConfig, "config.repartition",
          "{} is partitioned by [{}], and this run's partition_by is [{}]\n  hint: run once "
          "with --full-refresh (or mode overwrite) to repartition the table",
          spec.table.str(), Join(had, ", "), Join(has, ", "));
    }
  }
  CheckMergeKey(existing, spec);
  meta::TableChange change;
  change.options =
      json{{"merge_key", spec.mode == "append" ? std::vector<std::string>{} : spec.key}}.dump();
  change.base_version = spec.base_version;
  change.db = spec.table.db;
  change.name = spec.table.name;
  change.kind = spec.kind;
  change.format = "parquet";
  std::vector<fs::path> files = batch.files_;
  fs::path dir = batch.dir_;
  fs::path merged_dir;
  if (spec.mode == "merge") {
    // One row per key, latest wins: the batch's rows over the table's, and among the batch's
    // rows the one that arrived last. The table is rewritten.
    std::string old_rows =
        existing && existing->version > 0 && !spec.rebuild && !spec.partitions
            ? fmt::format("SELECT *, 0 AS _sluice_gen FROM {}.{} UNION ALL BY NAME ",
                          SqlIdent(spec.table.db), SqlIdent(spec.table.name))
            : "";
    std::string rows_sql = fmt::format(
        "SELECT * EXCLUDE (_sluice_gen, _sluice_arrival) FROM ({}SELECT *, 1 AS _sluice_gen "
        "FROM read_parquet({})) QUALIFY {} OR row_number() OVER (PARTITION BY {} ORDER BY "
        "_sluice_gen DESC, _sluice_arrival DESC NULLS FIRST) = 1",
        // A row with a NULL key matches no other row: all such rows stay.
        old_rows, PathList(batch.files_), SqlAnyNull(spec.key), SqlIdentList(spec.key));
    merged_dir = store.ScratchDir();
    dir = merged_dir;
    try {
      int64_t rows = 0;
      std::tie(files, rows) =
          Copy(conn, rows_sql, dir, spec.partition_by, run_id, spec.table.str(), options);
      change.change = fmt::format("{}merge: {} new rows, {} rows in {} file{}",
                                  spec.rebuild ? "full refresh, " : "", batch.rows(), rows,
                                  files.size(), files.size() == 1 ? "" : "s");
    } catch (...) {
      RemoveDir(merged_dir);
      throw;
    }
    change.remove_all = !spec.partitions;
  } else {
    change.remove_all = !spec.partitions && (spec.mode == "overwrite" || spec.rebuild);
  }
  if (spec.partitions && existing && existing->version > 0) {
    ColumnTypes types;
    for (const auto& c : batch.columns_) types[ToLower(c.name)] = c.type;
    change.removed = FilesInRange(conn, *spec.partitions, types,
                                  metastore.TableFiles(existing->id, existing->version));
  }
  const std::string prefix = lake::zones::TablePrefix(spec.table.db, spec.table.name);
  // Each file's row count, from its footer, for the catalog.
  std::map<std::string, int64_t> rows_of;
  if (!files.empty()) {
    auto r = conn.Query(
        fmt::format("SELECT file_name, num_rows FROM parquet_file_metadata({})", PathList(files)));
    for (size_t i = 0; i < r.row_count(); ++i) rows_of[r.GetOr(0, i)] = r.GetInt(1, i);
  }
  try {
    for (const auto& path : files) {
      std::string key = prefix + fs::relative(path, dir).string();
      uint64_t size = fs::file_size(path);
      auto rows = rows_of.find(path.string());
      // Listed before it is put: a PutFile that fails may still have written (a lost answer).
      change.added.push_back({key, size, catalog::PartitionOf(key, prefix),
                              rows == rows_of.end() ? -1 : rows->second, meta::FileStatus::kActive,
                              "", ""});
      store.PutFile(key, path);
    }
  } catch (...) {
    RemoveDir(merged_dir);
    RethrowWith(DiscardFiles(store, {change}));
  }
  RemoveDir(merged_dir);
  change.columns = (existing && (spec.mode != "overwrite" || spec.partitions) && !spec.rebuild)
                       ? UnionColumns(existing->columns, batch.columns_)
                       : batch.columns_;
  if (spec.partitions) {
    change.change =
        fmt::format("backfill {}: {} file{} replaced by {} ({} row{})", spec.partitions->text,
                    change.removed.size(), change.removed.size() == 1 ? "" : "s", files.size(),
                    batch.rows(), batch.rows() == 1 ? "" : "s");
  } else if (change.change.empty()) {
    change.change =
        fmt::format("{}{}: {} rows in {} file{}", spec.rebuild ? "full refresh, " : "", spec.mode,
                    batch.rows(), files.size(), files.size() == 1 ? "" : "s");
  }
  return change;
}

int64_t CurrentVersion(meta::CatalogStore& metastore, const project::TableName& table) {
  auto t = metastore.GetTable(table.db, table.name);
  return t ? t->version : 0;
}

std::string DiscardFiles(lake::Store& store, const std::vector<meta::TableChange>& changes) {
  std::string notes;
  for (const auto& change : changes) {
    for (const auto& file : change.added) {
      try {
        store.Delete(file.key);
      } catch (const Error& d) {
        notes += fmt::format("\n  note: {}", d.what());
      }
    }
  }
  return notes;
}

void RethrowWith(const std::string& notes) {
  try {
    throw;
  } catch (const Error& e) {
    if (notes.empty()) throw;
    throw Error(e.kind(), e.code(), e.what() + notes);
  }
}

void CommitOrDiscard(lake::Store& store, meta::Publisher& metastore,
                     const meta::RunCommit& commit) {
  try {
    metastore.CommitRun(commit);
  } catch (...) {
    RethrowWith(DiscardFiles(store, commit.tables));
  }
}

WrittenTable WriteTable(engine::Connection& conn, lake::Store& store, meta::CatalogStore& metastore,
                        const OutputSpec& spec, const std::string& select_sql, int64_t run_id,
                        const RunOptions& options) {
  auto batch = WriteBatch(conn, store, spec, select_sql, run_id, options);
  return {Publish(conn, store, metastore, spec, *batch, run_id, options), batch->rows()};
}

WrittenTable WriteQuarantine(engine::Connection& conn, lake::Store& store,
                             meta::CatalogStore& metastore, const project::TableName& table,
                             int64_t run_id, const std::vector<meta::TableChange>& pending) {
  try {
    return WriteTable(
        conn, store, metastore, {table, "quarantine", "append", {}, {}},
        fmt::format("SELECT *, CAST({} AS BIGINT) AS _run_id FROM _quarantine", run_id), run_id,
        {});
  } catch (...) {
    RethrowWith(DiscardFiles(store, pending));
  }
}

}  // namespace sluice::transform
