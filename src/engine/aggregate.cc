#include "engine/aggregate.h"

#include "common/error.h"

namespace sluice::engine {

void RegisterAggregate(Connection& conn, const Aggregate& a) {
  duckdb_aggregate_function f = duckdb_create_aggregate_function();
  duckdb_aggregate_function_set_name(f, a.name);
  duckdb_logical_type argument = duckdb_create_logical_type(a.argument);
  for (int i = 0; i < a.arguments; ++i) duckdb_aggregate_function_add_parameter(f, argument);
  duckdb_destroy_logical_type(&argument);
  duckdb_logical_type result = duckdb_create_logical_type(a.result);
  duckdb_aggregate_function_set_return_type(f, result);
  duckdb_destroy_logical_type(&result);
  duckdb_aggregate_function_set_functions(f, a.state_size, a.init, a.update, a.combine, a.finalize);
  if (a.destroy) duckdb_aggregate_function_set_destructor(f, a.destroy);
  duckdb_state state = duckdb_register_aggregate_function(conn.handle(), f);
  duckdb_destroy_aggregate_function(&f);
  // Registering it again fails (asking duckdb_functions() first would cost more, every time).
  if (state == DuckDBError && !HasFunction(conn, a.name, "aggregate")) {
    Fail(ErrorKind::kInternal, "cannot register SQL function {}", a.name);
  }
}

}  // namespace sluice::engine
