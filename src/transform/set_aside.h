#pragma once
// How jobs and models set rows aside while their SQL runs. Rows carry one column beside their
// data: `_sluice_file`, the input file each came from (1-based index into the run's file list;
// NULL for a model's rows). A step or check that drops or rejects a row hands it to the SQL
// function sluice_set_aside(file, reason, raw) (an engine::RowCapture) where it happens, so later
// steps never see it: dropped rows ('drop:filter', 'drop:dedupe') are counted, quarantined rows
// are kept with their reason and the row as JSON.
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "project/project.h"
#include "quality/rules.h"

namespace sluice::transform {

constexpr const char* kSetAside = "sluice_set_aside";
// Keyed tokens for `mask: tokenize` (engine::Tokenizer).
constexpr const char* kToken = "sluice_token";

struct ColumnInfo {
  std::string name, type;
};

// The data columns of `last`, a CTE of `ctes` (without Sluice's own `_sluice_` columns).
std::vector<ColumnInfo> DataColumns(engine::Connection& conn, const std::string& ctes,
                                    const std::string& last);

// Columns masked further on, by their name at this point: a row set aside before its job's mask
// step shows those columns masked, never as they came. Where an `sql` or `derive` step between
// here and a mask makes the names impossible to follow, nothing of the row is shown.
struct PendingMasks {
  std::map<std::string, project::MaskSpec> columns;  // lower-case name -> mask
  bool withhold = false;
  // `column`'s value (an SQL identifier named `name`) as quarantine may show it, as text.
  std::string Shown(const std::string& name, const std::string& column) const;
};

// The row as JSON text, with pending masks applied ("[withheld]" when withheld).
std::string RowJson(const std::vector<ColumnInfo>& columns, const PendingMasks& masks = {});

// `keep` true: the row goes on; otherwise it is set aside with `reason` and `raw`.
std::string KeepOrSetAside(const std::string& keep, const std::string& reason,
                           const std::string& raw);

// The masked value of `column` (an SQL identifier) as `spec` says, NULL staying NULL.
std::string MaskSql(const std::string& column, const project::MaskSpec& spec);

// The reason quarantining checks give the rows they set aside.
std::string CheckReason(const quality::Rule& rule);

// Row-level checks with on_fail: quarantine, as one SELECT over `prev` that sets breaking rows
// aside with every rule they break; "" when no rule quarantines.
std::string ChecksSql(const std::vector<quality::Rule>& rules, const std::string& prev,
                      const std::vector<ColumnInfo>& columns, const PendingMasks& masks = {});

// Adds to `rules` a quarantining `IsComplete` for each column of the merge key of `table`'s
// destination (project::DestinationMergeKey) that no rule of `rules` already checks complete
// (failing or quarantining, on every row): a row the warehouse merge could not place goes to
// quarantine with its reason before the run publishes, instead of failing the load after it.
void AddDestinationKeyChecks(const project::Project& project, const project::TableName& table,
                             std::vector<quality::Rule>& rules);

// Adds to `rules` a failing `IsPrimaryKey` over the unique_key of an incremental `model`: an
// incremental model's run must hold each key once, with no NULL in it, or it publishes nothing.
void AddUniqueKeyCheck(const project::Model& model, std::vector<quality::Rule>& rules);

}  // namespace sluice::transform
