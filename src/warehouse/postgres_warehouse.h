#pragma once
// The PostgreSQL backend of warehouse::Warehouse (see warehouse.h for the contract).
#include <memory>
#include <string>

#include "warehouse/warehouse.h"

namespace sluice::warehouse {

// Connects with a libpq URI or keyword string (the password from it, PGPASSWORD or a passfile).
std::unique_ptr<Warehouse> OpenPostgres(const std::string& conninfo);

}  // namespace sluice::warehouse
