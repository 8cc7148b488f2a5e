#pragma once
// Ad-hoc SQL over the catalog (Athena's job): read-only, and sandboxed to the lake.
#include <string>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"

namespace sluice::catalog {

// Attaches every catalog table to `conn`, locks DuckDB down to reading the lake, and runs `sql`.
// Statements that write, attach, install, copy or change settings are refused with
// sluice::Error(kUsage) before anything runs; DuckDB's own errors (with the position in the
// user's SQL) come back as sluice::Error(kInput).
engine::Result QueryReadOnly(engine::Connection& conn, meta::Metastore& metastore,
                             const lake::Store& store, const std::string& sql);

}  // namespace sluice::catalog
