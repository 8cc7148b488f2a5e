#pragma once
// The DuckDB-file backend of warehouse::Warehouse (see warehouse.h for the contract).
#include <memory>

#include "common/files.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {

// Opens (creating) `file`, waiting at most `lock_timeout_ms` for another opener, in this
// process or another, to close it (then warehouse.busy).
std::unique_ptr<Warehouse> OpenDuckdb(const fs::path& file, int64_t lock_timeout_ms);

}  // namespace sluice::warehouse
