#pragma once
// Sensitive-data tags: a sample of each text (and date) column of a table is run through the
// detectors of quality/pii.h, and the entity types found are stored per column in the metastore
// (shown by `sluice catalog TABLE`, used by `pii: auto` masking).
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "quality/pii.h"

namespace sluice::catalog {

// Samples up to `sample_rows` rows of `table` and stores each column's detected entities.
// Returns column -> entity types (columns without any are left out).
std::map<std::string, std::vector<quality::EntityMatch>> TagPii(
    engine::Connection& conn, meta::CatalogStore& metastore, const lake::Store& store,
    const meta::Table& table, const std::vector<quality::CustomEntity>& custom = {},
    size_t sample_rows = 1000);

// The entity names stored for a column ("" JSON or none: empty).
std::vector<std::string> PiiEntities(const std::string& tags_json);
// How a job masked the column ("hash", "tokenize", ...), or "" when it is not masked.
std::string MaskedBy(const std::string& tags_json);

}  // namespace sluice::catalog
