#include "warehouse/warehouse.h"

#include "common/error.h"
#include "warehouse/duckdb_warehouse.h"
#include "warehouse/postgres_warehouse.h"

namespace sluice::warehouse {

std::string Target::sql() const { return Quote(schema) + "." + Quote(table); }

std::string Quote(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '\0') Fail(ErrorKind::kInternal, "a name holds a NUL byte");
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string Literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') Fail(ErrorKind::kInternal, "a text holds a NUL byte");
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

void CheckRowLimit(int64_t rows, int64_t max_rows) {
  if (max_rows <= 0 || rows <= max_rows) return;
  FailWithCode(ErrorKind::kInput, "query.row_limit",
               "the answer has more than {} rows, the limit\n"
               "  hint: add a LIMIT or aggregate, or raise the limit with --max-rows N "
               "(or query: max_rows in sluice.yaml; 0 lifts it)",
               max_rows);
}

void RequireSettings(const project::Environment& env) {
  project::RequireSet(env.warehouse_unset_env);
}

std::unique_ptr<Warehouse> Open(const project::Environment& env, int64_t lock_timeout_ms) {
  RequireSettings(env);
  if (!env.warehouse_uri.empty()) return OpenPostgres(env.warehouse_uri);
  return OpenDuckdb(env.warehouse, lock_timeout_ms);
}

}  // namespace sluice::warehouse
