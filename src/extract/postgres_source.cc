// A PostgreSQL source database (extract/database.h), over the one libpq layer (pg/pg.h).
#include <fmt/format.h>

#include "common/error.h"
#include "common/strings.h"
#include "extract/database.h"
#include "pg/pg.h"

namespace sluice::extract {
namespace {

using json = nlohmann::json;

// How a column of PostgreSQL type `oid` (typmod `mod`) lands. Every value is read in its text
// form under the session settings Open fixes (UTC, ISO dates, shortest exact floats, hex bytea),
// which DuckDB reads back as the same value.
Column Map(const std::string& name, unsigned int oid, int mod, const std::string& type_name) {
  Column c{name, type_name, "VARCHAR", "", false};
  switch (oid) {
    case 16:
      c.lake_type = "BOOLEAN";
      break;
    case 17:  // bytea
      c.lake_type = "BLOB";
      c.hex = true;
      c.convert = "from_hex(substr({0}, 3))";
      break;
    case 20:
      c.lake_type = "BIGINT";
      break;
    case 21:
      c.lake_type = "SMALLINT";
      break;
    case 23:
      c.lake_type = "INTEGER";
      break;
    case 26:
      c.lake_type = "UINTEGER";
      break;  // oid
    case 700:
      c.lake_type = "FLOAT";
      break;
    case 701:
      c.lake_type = "DOUBLE";
      break;
    case 1082:  // PostgreSQL writes a date before year 1 as "0044-03-15 BC", DuckDB reads
                // "0044-03-15 (BC)" (and would take the first for year 44 AD)
      c.lake_type = "DATE";
      c.convert =
          "CASE WHEN ends_with({0}, ' BC') THEN CAST(replace({0}, ' BC', ' (BC)') AS DATE) "
          "ELSE CAST({0} AS DATE) END";
      break;
    case 1083:
      c.lake_type = "TIME";
      break;
    case 1114:
    case 1184:  // DuckDB reads no time before year 1: such a value fails, never lands as AD
      c.lake_type = oid == 1114 ? "TIMESTAMP" : "TIMESTAMPTZ";
      c.convert = fmt::format(
          "CASE WHEN ends_with({{0}}, ' BC') THEN error({} || {{0}}) ELSE CAST({{0}} AS {}) END",
          ConvertText(SqlString(fmt::format(
              "column {} holds a time before year 1, which the lake cannot hold: ", name))),
          c.lake_type);
      break;
    case 2950:
      c.lake_type = "UUID";
      break;
    case 1186:  // interval: Parquet keeps no negative interval, so its three parts as text,
                // which CAST(... AS INTERVAL) reads back exactly
      c.lake_type = "VARCHAR";
      c.select = fmt::format(
          "CASE WHEN s.{0} IS NULL THEN NULL ELSE format('%s months %s days %s microseconds', "
          "(extract(year FROM s.{0}) * 12 + extract(month FROM s.{0}))::bigint, "
          "extract(day FROM s.{0})::bigint, (extract(hour FROM s.{0}) * 3600000000 + "
          "extract(minute FROM s.{0}) * 60000000 + extract(microseconds FROM s.{0}))::bigint) "
          "END",
          SqlIdent(name));
      break;
    case 1700:  // numeric(p, s): exact as DECIMAL where DuckDB has one; as its text otherwise
      if (mod >= 4) {
        int p = ((mod - 4) >> 16) & 0xffff;
        int s = (((mod - 4) & 0x7ff) ^ 1024) - 1024;  // PostgreSQL 15 allows a negative scale
        if (p >= 1 && p <= 38 && s >= 0 && s <= p)
          c.lake_type = fmt::format("DECIMAL({},{})", p, s);
      }
      break;
    default:
      break;  // text, varchar, char, json, arrays, enums, timetz (Parquet keeps no
              // offset with a time), ...: their text
  }
  return c;
}

class PostgresSource : public SourceDatabase {
 public:
  explicit PostgresSource(const std::string& uri) : conn_(uri), tx_(Begin(conn_)) {}

  std::vector<Column> Describe(const std::string& relation) override {
    pg::Result r = conn_.Query(fmt::format("SELECT * FROM {} LIMIT 0", relation));
    std::vector<std::string> oids, mods;
    for (int i = 0; i < r.columns(); ++i) {
      oids.push_back(std::to_string(r.type_oid(i)));
      mods.push_back(std::to_string(r.type_modifier(i)));
    }
    std::vector<Column> columns;
    if (r.columns() == 0) return columns;
    pg::Result names = conn_.Query(
        "SELECT format_type(t, NULLIF(m, -1)) FROM unnest($1::oid[], $2::int[]) "
        "WITH ORDINALITY AS u(t, m, i) ORDER BY i",
        {"{" + Join(oids, ",") + "}", "{" + Join(mods, ",") + "}"});
    for (int i = 0; i < r.columns(); ++i) {
      columns.push_back(Map(r.column_name(i), r.type_oid(i), r.type_modifier(i), names.Text(i, 0)));
    }
    return columns;
  }

  std::vector<json> Read(const std::string& select, const std::vector<Column>& columns,
                         const std::vector<size_t>& bound,
                         const std::function<void(std::string_view row)>& row) override {
    std::string last;
    conn_.CopyTo(fmt::format("COPY ({}) TO STDOUT (FORMAT csv)", select),
                 [&](std::string_view line) {
                   row(line);
                   if (!bound.empty()) last.assign(line);
                 });
    std::vector<json> values;
    if (last.empty()) return values;
    auto fields = ParseCsvRow(last);
    for (size_t i : bound) {
      if (i >= fields.size() || !fields[i]) {
        FailWithCode(ErrorKind::kInput, "extract.bad_key",
                     "the last row read has NULL in column {} (the cursor or a key): every row "
                     "needs both; filter such rows out in a query: (WHERE {} IS NOT NULL) or "
                     "choose another key (nothing landed)",
                     i < columns.size() ? columns[i].name : "?",
                     i < columns.size() ? SqlIdent(columns[i].name) : "...");
      }
      values.emplace_back(*fields[i]);
    }
    return values;
  }

 private:
  // One read-only snapshot, under settings that make every value's text exact and the same
  // from any server (its TimeZone and DateStyle are the server's or the user's otherwise).
  static pg::Transaction Begin(pg::Connection& conn) {
    conn.Query(
        "SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, YMD', false), "
        "set_config('IntervalStyle', 'postgres', false), set_config('extra_float_digits', '1', "
        "false), set_config('bytea_output', 'hex', false), "
        "set_config('standard_conforming_strings', 'on', false), "
        "set_config('client_encoding', 'UTF8', false), "
        "set_config('application_name', 'sluice extract', false)");
    return pg::Transaction(conn, pg::Isolation::kRepeatableRead, /*read_only=*/true);
  }

  pg::Connection conn_;
  pg::Transaction tx_;
};

}  // namespace

std::unique_ptr<SourceDatabase> OpenPostgresSource(const std::string& uri) {
  return std::make_unique<PostgresSource>(uri);
}

}  // namespace sluice::extract
