#pragma once
// What loads (load.cc) and incremental warehouse models (model.cc) both do to a warehouse table
// from a stage of rows, in SQL both engines accept. Internal to the warehouse module.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "warehouse/warehouse.h"

namespace sluice::warehouse {

// Creates the table `name` of the schema `sluice` (Sluice's own tables in the warehouse) with the
// column definitions `columns` unless it exists; outside a transaction. Returns its quoted name.
std::string EnsureSluiceTable(Warehouse& wh, const std::string& name, const std::string& columns);

// The names of `columns`, in order.
std::vector<std::string> ColumnNames(const std::vector<Column>& columns);

// `names` quoted, each after `prefix`, joined with ", ".
std::string QuotedList(const std::vector<std::string>& names, const std::string& prefix = "");

// "a.k1 = b.k1 AND a.k2 = b.k2" for the columns of `key`.
std::string KeyMatch(const std::vector<std::string>& key, const std::string& a,
                     const std::string& b);

// The unique index Sluice makes for a merge key of `target`: a name within PostgreSQL's 63 bytes.
std::string KeyIndexName(const Target& target);

// The first key (as "k=v, ...") that `from` (a quoted relation) holds more than once, and how
// often; NULL keys aside. nullopt when every key is there once.
std::optional<std::pair<std::string, std::string>> RepeatedKey(Warehouse& wh,
                                                               const std::string& from,
                                                               const std::vector<std::string>& key);

// RepeatedKey for a stage Sluice made and drops (`stage`, quoted) with no NULL key, outside a
// transaction (a failed statement would abort it on PostgreSQL). It first makes the unique index
// `index` (unquoted, a name free in the stage's schema) on the key: one sort proves every key is
// there once, faster on PostgreSQL than RepeatedKey's GROUP BY; only when that fails does it look
// for the repeated key. The index goes when the stage is dropped. An interruption, or a failure
// that is no repeated key, is thrown as it came.
std::optional<std::pair<std::string, std::string>> RepeatedStageKey(
    Warehouse& wh, const std::string& stage, const std::string& index,
    const std::vector<std::string>& key);

// The rows of `from` (a quoted relation) with a NULL in a column of `key`.
int64_t NullKeyRows(Warehouse& wh, const std::string& from, const std::vector<std::string>& key);

// Aliases for the stage and the target in one statement, quoted, that are no column's name in
// any case: DuckDB reads `s.k` as the field k of a STRUCT column s before the alias s.
struct Aliases {
  std::string stage, target;
};
Aliases MergeAliases(const std::vector<Column>& columns);

// Merges the rows of `stage` (a quoted relation holding each key once and no NULL key) into
// `target` (which has KeyIndex's index where the backend keeps one): a row whose key the target
// holds updates it when a value differs, any other is inserted. `names` are the stage's columns.
// One statement where the backend has it (Warehouse::Upsert), else UPDATE then INSERT; in the
// caller's transaction.
Warehouse::Upserted MergeRows(Warehouse& wh, const Target& target, const std::string& stage,
                              const std::vector<std::string>& names,
                              const std::vector<std::string>& key, const Aliases& as);

}  // namespace sluice::warehouse
