#pragma once
// The JSON of catalog tables: the listing, and one table with its columns (types, PII tags,
// masking), partitions, versions and quarantined files, as `sluice catalog --format json`
// prints them. Times here are RFC 3339 or "" (not null) when unknown, as they always were.
#include <nlohmann/json.hpp>
#include <string>

#include "meta/metastore.h"

namespace sluice::api {

// The catalog's tables: table, kind, format, version, files, columns, updated_at.
nlohmann::json TableListJson(meta::Metastore& metastore);

// One table: table, kind, format, version, location (`location`, the store's URI of its
// prefix), files, bytes, columns [{name, masked, type, partition, pii, pii_detail}],
// partitions [{partition, files, bytes}], versions [{version, created_at, run_id, change,
// files}], quarantined_files [{file, reason}].
nlohmann::json TableJson(meta::Metastore& metastore, const meta::Table& table,
                         const std::string& location);

// What each version of a table changed, oldest first (`sluice catalog TABLE --versions`):
// version, created_at, run_id, change, files, bytes, rows (null when a file's count is unknown),
// files_added, files_removed, columns_added [{name, type}], columns_removed [{name, type}],
// columns_retyped [{name, from, to}], and `after_vacuum: true` on the oldest version kept when
// its predecessor was vacuumed (its figures then compare with nothing: every file and column
// counts as added).
nlohmann::json TableVersionsJson(meta::Metastore& metastore, const meta::Table& table);

}  // namespace sluice::api
