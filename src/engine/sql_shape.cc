#include "engine/sql_shape.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::engine {

ParsedSql ParseSql(Connection& conn, const std::string& sql) {
  ParsedSql out;
  duckdb_extracted_statements statements = nullptr;
  out.statements = duckdb_extract_statements(conn.handle(), sql.c_str(), &statements);
  if (out.statements == 0) {
    const char* error = duckdb_extract_statements_error(statements);
    std::string message = error ? error : "";
    duckdb_destroy_extracted(&statements);
    if (message.empty()) return out;
    throw Error(ErrorKind::kInput, "input.sql", message);
  }
  duckdb_destroy_extracted(&statements);
  if (out.statements != 1) return out;
  // json_serialize_sql serializes SELECT statements only; anything else is an error answer.
  auto tree = nlohmann::json::parse(
      conn.Query("SELECT json_serialize_sql(" + SqlString(sql) + ")").GetOr(0, 0), nullptr, false);
  if (tree.is_object() && !tree.value("error", true) && tree["statements"].size() == 1) {
    out.select = tree["statements"][0];
  }
  return out;
}

std::optional<SyntaxError> FindSyntaxError(Connection& conn, const std::string& sql) {
  // json_serialize_sql answers a text that does not parse with the parser's message and the
  // offset it points at; other statements than SELECT parse, and answer another error type.
  auto answer = nlohmann::json::parse(
      conn.Query("SELECT json_serialize_sql(" + SqlString(sql) + ")").GetOr(0, 0), nullptr, false);
  if (!answer.is_object() || !answer.value("error", false) ||
      answer.value("error_type", "") != "parser") {
    return std::nullopt;
  }
  SyntaxError error{answer.value("error_message", "syntax error"), sql.size()};
  std::string position = answer.value("position", "");
  if (!position.empty() && std::all_of(position.begin(), position.end(), ::isdigit)) {
    error.offset = std::min<size_t>(std::stoull(position), sql.size());
  }
  return error;
}

size_t FirstWordAt(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(') {
      ++i;
    } else if (sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
      if (i == std::string::npos) return sql.size();
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = sql.find("*/", i);
      if (i == std::string::npos) return sql.size();
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

std::string FirstWord(const std::string& sql) {
  size_t i = FirstWordAt(sql), end = i;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  std::string word = sql.substr(i, end - i);
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

namespace {
// `sql` cut at the `;` after which only blanks, comments and `;` follow, reading '...' and "..."
// as quoted (not dollar-quoted or E'' texts, nor nested comments: the parser checks the cut).
std::string CutAtTerminator(const std::string& sql) {
  size_t end = sql.size();  // where the statement's text ends
  bool terminated = false;  // whether only a `;`, blanks and comments follow `end`
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] != c) {
          ++j;
        } else if (j + 1 < sql.size() && sql[j + 1] == c) {
          j += 2;  // a doubled quote stands for the quote itself
        } else {
          break;
        }
      }
      i = j + 1;
      terminated = false;
    } else if (sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
      if (i == std::string::npos) break;
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = sql.find("*/", i);
      if (i == std::string::npos) break;
      i += 2;
    } else if (c == ';') {
      if (!terminated) end = i;
      terminated = true;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      terminated = false;
      ++i;
    }
  }
  return terminated ? sql.substr(0, end) : sql;
}
}  // namespace

std::string WithoutTerminator(Connection& conn, const std::string& sql) {
  std::string trimmed = sql;  // trailing blanks and `;` alone
  while (!trimmed.empty() &&
         (trimmed.back() == ';' || std::isspace(static_cast<unsigned char>(trimmed.back())))) {
    trimmed.pop_back();
  }
  ParsedSql whole;
  try {
    whole = ParseSql(conn, sql);
  } catch (const Error&) {
    return sql;
  }
  if (whole.statements != 1 || whole.select.is_null()) return sql;
  for (const std::string& cut : {CutAtTerminator(sql), trimmed}) {
    if (cut.size() == sql.size()) continue;
    try {
      auto parsed = ParseSql(conn, cut);
      if (parsed.statements == 1 && parsed.select == whole.select) return cut;
    } catch (const Error&) {
      // not a statement of its own: the next candidate, or `sql`
    }
  }
  return sql;
}

namespace {
void CommonTableNames(const nlohmann::json& tree, std::set<std::string>& names) {
  if (tree.is_object()) {
    if (auto it = tree.find("cte_map"); it != tree.end() && it->is_object()) {
      for (const auto& entry : it->value("map", nlohmann::json::array())) {
        if (entry.contains("key") && entry["key"].is_string()) {
          names.insert(ToLower(entry["key"].get<std::string>()));
        }
      }
    }
  }
  if (tree.is_structured()) {
    for (const auto& child : tree) CommonTableNames(child, names);
  }
}

std::string FirstForeign(const nlohmann::json& tree, const std::set<std::string>& ctes,
                         const KnownRelation& known) {
  if (tree.is_object() && tree.contains("type") && tree["type"].is_string()) {
    const std::string type = tree["type"].get<std::string>();
    if (type == "TABLE_FUNCTION") {
      std::string name = "?";
      if (tree.contains("function") && tree["function"].is_object()) {
        name = tree["function"].value("function_name", "?");
      }
      return "table function " + name;
    }
    if (type == "SHOW_REF") return "DESCRIBE/SUMMARIZE";
    if (type == "BASE_TABLE") {
      std::string catalog = tree.value("catalog_name", ""), schema = tree.value("schema_name", "");
      std::string name = tree.value("table_name", "");
      bool cte = catalog.empty() && schema.empty() && ctes.count(ToLower(name));
      if (!cte && (!catalog.empty() || !known(schema, name))) {
        return "'" + (catalog.empty() ? "" : catalog + ".") + (schema.empty() ? "" : schema + ".") +
               name + "'";
      }
    }
  }
  if (tree.is_structured()) {
    for (const auto& child : tree) {
      std::string found = FirstForeign(child, ctes, known);
      if (!found.empty()) return found;
    }
  }
  return "";
}
}  // namespace

std::string ForeignRead(const nlohmann::json& tree, const KnownRelation& known) {
  std::set<std::string> ctes;
  CommonTableNames(tree, ctes);
  return FirstForeign(tree, ctes, known);
}

}  // namespace sluice::engine
