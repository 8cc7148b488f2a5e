#pragma once
// What a text of SQL is, by DuckDB's own parser, before anything binds or runs: how many
// statements it holds and, for a SELECT, its syntax tree (json_serialize_sql). Gates that decide
// what may run (sluice query, CustomSql rules, where filters) decide from this, never from words.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"

namespace sluice::engine {

struct ParsedSql {
  size_t statements = 0;
  // Set when the text is exactly one SELECT: its tree ({"node": {...}, ...}); null otherwise.
  nlohmann::json select;
};

// Parses `sql` on `conn` (which needs DuckDB's json extension, built in). Text that is not SQL
// throws sluice::Error(kInput) with DuckDB's message, which points into `sql`.
ParsedSql ParseSql(Connection& conn, const std::string& sql);

// Whether `schema.name` (schema "" when unqualified) is a relation the gate allows.
using KnownRelation = std::function<bool(const std::string& schema, const std::string& name)>;

// The first thing in `tree` that reads other than from a known relation, described for a
// message ("table function read_csv", "'/etc/passwd'"), or "" when there is none. Refused:
// table functions, DESCRIBE/SUMMARIZE, and table names `known` rejects (DuckDB reads an unknown
// name that looks like a file as that file). Names of common table expressions are known.
std::string ForeignRead(const nlohmann::json& tree, const KnownRelation& known);

}  // namespace sluice::engine
