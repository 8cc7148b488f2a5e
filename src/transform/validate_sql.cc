// The SQL of the project, read by DuckDB's parser alone (nothing binds against the lake): model
// files, `sql` steps, `filter`/`derive` expressions and `cast` type names.
#include <fmt/format.h>

#include <optional>

#include "common/error.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/sql_shape.h"
#include "transform/validate.h"

namespace sluice::transform {

namespace {

using project::Diagnostics;
using project::Location;

// DuckDB's message without its "Xxx Error: " prefix and the quote of the text that follows it.
std::string FirstLine(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  if (size_t colon = line.find(" Error: "); colon != std::string::npos) {
    line = line.substr(colon + std::string(" Error: ").size());
  }
  return line;
}

// "an INSERT statement", "a COPY statement": what a text that is not one SELECT holds.
std::string Found(const engine::ParsedSql& parsed, const std::string& sql) {
  if (parsed.statements > 1) return fmt::format("{} statements", parsed.statements);
  std::string word = engine::FirstWord(sql);
  if (word.empty() || word == "WITH") return "a statement that is not a SELECT";
  bool vowel = std::string("AEIOU").find(word.front()) != std::string::npos;
  return fmt::format("{} {} statement", vowel ? "an" : "a", word);
}

class SqlChecker {
 public:
  explicit SqlChecker(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  // A model's SQL (its {{ ref() }} padded in place, so offsets are the file's), or a `sql` step:
  // exactly one SELECT statement. `file` holds `sql` when positions inside it are the file's;
  // otherwise (a YAML scalar) problems are at `where`, with the character in the text.
  void Statement(const std::string& what, const std::string& sql, const Location& where,
                 bool in_file) {
    if (auto error = engine::FindSyntaxError(conn(), sql)) {
      if (in_file) {
        // The end of the text is where its last word ends, not past the blank lines after it.
        size_t end = sql.find_last_not_of(" \t\r\n") + 1;
        diagnostics_.Add(project::LocationIn(where.file, sql, std::min(error->offset, end)),
                         error->message, "", "config.sql_syntax");
      } else {
        diagnostics_.Add(
            where, fmt::format("{}: {} (character {})", what, error->message, error->offset + 1),
            "", "config.sql_syntax");
      }
      return;
    }
    auto parsed = engine::ParseSql(conn(), sql);
    if (parsed.statements == 1 && !parsed.select.is_null()) return;
    Location at = in_file ? project::LocationIn(where.file, sql, engine::FirstWordAt(sql)) : where;
    diagnostics_.Add(at,
                     fmt::format("{} is one SELECT statement; found {}", what, Found(parsed, sql)),
                     "WITH, VALUES and FROM-first queries are SELECTs too; Sluice writes the "
                     "answer to the table itself",
                     "config.not_select");
  }

  // One SQL expression over the row's columns (`filter`, a `derive` value).
  void Expression(const std::string& what, const std::string& text, const Location& where) {
    static const std::string prefix = "SELECT (";
    if (auto problem = OneItem(prefix, text, "1")) {
      diagnostics_.Add(where, fmt::format("{}: {}", what, *problem),
                       "write one SQL expression over the row's columns, e.g. amount * 2",
                       "config.bad_expression");
    }
  }

  // A type name of DuckDB's (`cast`): it parses and DuckDB knows it.
  void Type(const std::string& what, const std::string& type, const Location& where) {
    static const std::string prefix = "SELECT CAST(NULL AS ";
    if (auto problem = OneItem(prefix, type, "INTEGER")) {
      diagnostics_.Add(where, fmt::format("{}: {}", what, *problem), "", "config.bad_type");
      return;
    }
    try {
      conn().Inspect(prefix + type + "\n)");  // binds the type name, nothing else
    } catch (const Error& e) {
      std::string near = Nearest(ToLower(type), TypeNames());
      diagnostics_.Add(
          where, fmt::format("{}: '{}' is not a type: {}", what, type, FirstLine(e.what())),
          near.empty() ? "" : fmt::format("did you mean '{}'?", near), "config.bad_type");
    }
  }

 private:
  engine::Connection& conn() {
    if (!conn_) {
      db_.emplace("", 1);
      conn_.emplace(*db_);
    }
    return *conn_;
  }

  // Why `prefix + text + "\n)"` is not the SELECT of one item that `prefix + sample + "\n)"` is
  // (the text does not parse, or closes the parenthesis to add items, clauses or statements).
  std::optional<std::string> OneItem(const std::string& prefix, const std::string& text,
                                     const std::string& sample) {
    std::string sql = prefix + text + "\n)";
    if (auto error = engine::FindSyntaxError(conn(), sql)) {
      size_t at = error->offset > prefix.size() ? error->offset - prefix.size() : 0;
      // Past the text, DuckDB names the closing parenthesis added here: the text ends too soon.
      std::string message = at < text.size() ? error->message : "syntax error at end of input";
      return fmt::format("{} (character {} of '{}')", message, std::min(at, text.size()) + 1,
                         Trim(text));
    }
    auto shape = [&](const std::string& select) -> std::optional<nlohmann::json> {
      auto parsed = engine::ParseSql(conn(), select);
      if (parsed.statements != 1 || parsed.select.is_null()) return std::nullopt;
      auto node = parsed.select.value("node", nlohmann::json());
      if (!node.is_object() || node.value("select_list", nlohmann::json()).size() != 1) {
        return std::nullopt;
      }
      node.erase("select_list");
      return node;
    };
    auto got = shape(sql);
    if (got && got == shape(prefix + sample + "\n)")) return std::nullopt;
    return fmt::format("'{}' is not one expression", Trim(text));
  }

  // The names DuckDB knows types by, for suggestions.
  const std::vector<std::string>& TypeNames() {
    if (type_names_.empty()) {
      auto r = conn().Query("SELECT DISTINCT lower(type_name) FROM duckdb_types() ORDER BY 1");
      for (size_t i = 0; i < r.row_count(); ++i) type_names_.push_back(r.GetOr(0, i));
    }
    return type_names_;
  }

  Diagnostics& diagnostics_;
  std::optional<engine::Database> db_;
  std::optional<engine::Connection> conn_;
  std::vector<std::string> type_names_;
};

}  // namespace

void ValidateSql(const project::Project& project, Diagnostics& diagnostics) {
  SqlChecker check(diagnostics);
  for (const auto& [table, model] : project.models) {
    std::string sql = project.AlignedModelSql(model);
    // An empty model, or one with a {{ }} that is no ref(), is reported as such already.
    if (Trim(sql).empty() || sql.find("{{") != std::string::npos) continue;
    // PostgreSQL reads a warehouse model there, in its own dialect, when it runs.
    bool on_postgres = model.in_warehouse && (!project.env.warehouse_uri.empty() ||
                                              !project.env.warehouse_unset_env.empty());
    if (!on_postgres) check.Statement("a model", sql, model.where, true);
  }
  for (const auto& [name, job] : project.jobs) {
    for (const auto& step : job.steps) {
      auto at = [&](size_t i) {
        return i < step.value_where.size() ? step.value_where[i] : step.where;
      };
      if (step.kind == "sql" && !step.text.empty()) {
        check.Statement("a sql step", step.text, at(0), false);
      } else if (step.kind == "filter" && !step.text.empty()) {
        check.Expression("filter", step.text, at(0));
      } else if (step.kind == "derive" || step.kind == "cast") {
        for (size_t i = 0; i < step.pairs.size(); ++i) {
          const auto& [column, value] = step.pairs[i];
          std::string what = fmt::format("{} '{}'", step.kind, column);
          if (step.kind == "derive") {
            check.Expression(what, value, at(i));
          } else {
            check.Type(what, value, at(i));
          }
        }
      }
    }
  }
}

}  // namespace sluice::transform
