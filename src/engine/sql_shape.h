#pragma once
// What a text of SQL is, by DuckDB's own parser, before anything binds or runs: how many
// statements it holds and, for a SELECT, its syntax tree (json_serialize_sql). Gates that decide
// what may run (sluice query, CustomSql rules, where filters) decide from this, never from words.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/engine.h"

namespace sluice::engine {

struct ParsedSql {
  size_t statements = 0;
  // Set when the text is exactly one SELECT: its tree ({"node": {...}, ...}); null otherwise.
  nlohmann::json select;
};

// Parses `sql` on `conn` (which needs DuckDB's json extension, built in). Text that is not SQL
// throws sluice::Error(kInput) with DuckDB's message, which points into `sql`; text without a
// statement (empty, blanks, comments) has 0 statements.
ParsedSql ParseSql(Connection& conn, const std::string& sql);

// Where DuckDB's parser stops reading `sql`: its message (without DuckDB's quote of the text)
// and the byte offset in `sql` it points at (`sql.size()` for the end of the text).
struct SyntaxError {
  std::string message;
  size_t offset = 0;
};

// The syntax error of `sql` (on `conn`, which needs the json extension), or nullopt when it
// parses. Nothing binds: names of tables, columns and types are not looked up.
std::optional<SyntaxError> FindSyntaxError(Connection& conn, const std::string& sql);

// Where the first word of `sql` starts, past blanks, comments and opening parentheses.
size_t FirstWordAt(const std::string& sql);

// The first word of `sql`, upper-cased: for messages only, never for a decision.
std::string FirstWord(const std::string& sql);

// `sql` (one SELECT) without the `;` that ends it and the blanks and comments after that, so that
// it can be wrapped (`SELECT ... FROM (<sql>\n)`). A shorter text is returned only when DuckDB's
// parser (on `conn`) reads it as the very same statement as `sql`; otherwise, and for anything
// but one SELECT, `sql` itself (wrapping it then fails with a syntax error, never a different
// query).
std::string WithoutTerminator(Connection& conn, const std::string& sql);

// Whether `schema.name` (schema "" when unqualified) is a relation the gate allows.
using KnownRelation = std::function<bool(const std::string& schema, const std::string& name)>;

// The first thing in `tree` that reads other than from a known relation, described for a
// message ("table function read_csv", "'/etc/passwd'"), or "" when there is none. Refused:
// table functions, DESCRIBE/SUMMARIZE, and table names `known` rejects (DuckDB reads an unknown
// name that looks like a file as that file). Names of common table expressions are known.
std::string ForeignRead(const nlohmann::json& tree, const KnownRelation& known);

}  // namespace sluice::engine
