#pragma once
// meta::CatalogStore: the catalog's read side — databases, tables, their versions, columns and
// files — and the sensitive-data tags of columns. Tables change only through Publisher::CommitRun.
//
// Contract, for every backend:
// - Reads see committed state only: a table's version, files and columns as of one commit.
// - Table versions only grow; a table's files at version V never change.
// - A missing table or version answers nullopt or an empty list, never an error.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call any method at any time.
#include <cstdint>
#include <map>
#include <optional>
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
};

}  // namespace sluice::meta
