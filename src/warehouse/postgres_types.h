#pragma once
// The type mapping from the catalog (DuckDB types) to PostgreSQL, and the text form each value
// travels in through COPY (docs/warehouse.md shows the table; tests round-trip every row of it).
#include <optional>
#include <string>

namespace sluice::warehouse {

// The PostgreSQL type (as format_type() spells it) for a catalog type; nullopt for a type
// PostgreSQL cannot hold (e.g. BIT, UNION, VARINT beyond NUMERIC).
std::optional<std::string> PostgresTypeFor(const std::string& catalog_type);

// A DuckDB expression giving the text PostgreSQL reads back as the same value: `column` (a
// quoted name) cast to VARCHAR, or a form PostgreSQL's input expects (bytea as \x hex, nested
// values as JSON). The DuckDB session must run in UTC (SET TimeZone = 'UTC').
std::string PostgresTextOf(const std::string& column, const std::string& catalog_type);

// Whether a PostgreSQL column of type `from` may become `to` (both format_type() spellings)
// without losing a value: smallint < integer < bigint < numeric, a numeric with no fewer
// integer or fraction digits, real < double precision, anything < text.
bool PostgresWidens(const std::string& from, const std::string& to);

}  // namespace sluice::warehouse
