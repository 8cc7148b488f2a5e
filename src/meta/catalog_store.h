#pragma once
// meta::CatalogStore: the catalog's read side — databases, tables, their versions, columns and
// files — and the sensitive-data tags of columns. Tables change only through Publisher::CommitRun,
// and old versions go only through PruneVersions (vacuum).
//
// Contract, for every backend:
// - Reads see committed state only: a table's version, files and columns as of one commit.
// - Table versions only grow; a table's files at version V never change while V exists.
// - A missing table or version answers nullopt or an empty list, never an error.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call any method at any time.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  // Every table, by database and name, with its current columns left empty.
  virtual std::vector<Table> ListTables() = 0;
  // The table with its current columns; nullopt when there is none.
  virtual std::optional<Table> GetTable(const std::string& db, const std::string& name) = 0;
  // The table's files at `version` (0: the current one), by key; `include_quarantined` adds
  // files kept out of the table.
  virtual std::vector<TableFile> TableFiles(int64_t table_id, int64_t version = 0,
                                            bool include_quarantined = false) = 0;
  // Every version of the table, oldest first, with its count of active files.
  virtual std::vector<TableVersion> TableVersions(int64_t table_id) = 0;
  // Columns as of `version` (0: current), in order.
  virtual std::vector<Column> TableColumns(int64_t table_id, int64_t version) = 0;

  // Sensitive-data tags of a table's columns: column -> JSON array such as
  // [{"entity": "EMAIL", "confidence": 0.98}]. SetColumnTags replaces the tags of the columns it
  // names (the latest detection wins), all in one transaction; other columns keep theirs.
  virtual void SetColumnTags(int64_t table_id, const std::map<std::string, std::string>& tags) = 0;
  virtual std::map<std::string, std::string> ColumnTags(int64_t table_id) = 0;

  // Removes the table's versions older than `keep_from` (never the current version: keep_from
  // is capped to it) with their columns, and, when `own_prefix` is given, the rows of the files
  // under it that no version from keep_from on lists (the caller then deletes those objects).
  // Files outside own_prefix (a source's landed files) keep their rows. Returns what it removed,
  // or with `apply` false what it would remove, changing nothing. One transaction; a missing
  // table or nothing to prune answers an empty result.
  virtual PrunedVersions PruneVersions(int64_t table_id, int64_t keep_from,
                                       const std::optional<std::string>& own_prefix,
                                       bool apply) = 0;
  // The keys of every file row under `prefix`, of every table, version and status.
  virtual std::set<std::string> FileKeysUnder(const std::string& prefix) = 0;
};

}  // namespace sluice::meta
