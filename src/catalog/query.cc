#include "catalog/query.h"

#include <fmt/format.h>

#include <cctype>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

namespace {

// The first word of the first statement, upper-cased, past blanks, comments and parentheses.
std::string FirstKeyword(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(') {
      ++i;
    } else if (sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
      if (i == std::string::npos) return "";
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = sql.find("*/", i);
      if (i == std::string::npos) return "";
      i += 2;
    } else {
      break;
    }
  }
  size_t end = i;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  std::string word = sql.substr(i, end - i);
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

bool IsReadKeyword(const std::string& word) {
  for (const char* w : {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "EXPLAIN", "DESCRIBE", "SHOW",
                        "SUMMARIZE", "PIVOT", "UNPIVOT"}) {
    if (word == w) return true;
  }
  return false;
}

[[noreturn]] void RefuseWrite(const std::string& keyword) {
  Fail(ErrorKind::kUsage,
       "sluice query is read-only: {} statements are not allowed\n"
       "  hint: tables are written by jobs and models (`sluice run`); query them with SELECT",
       keyword.empty() ? "such" : keyword);
}

}  // namespace

namespace {
engine::Result CheckedQuery(engine::Connection& conn, const std::string& sql) {
  std::vector<engine::StatementInfo> statements;
  try {
    statements = conn.Inspect(sql);
  } catch (const Error& e) {
    // A statement that fails to bind (a DELETE on a view, a COPY outside the lake) has no kind
    // yet: its first word tells whether it meant to write.
    if (StartsWith(e.what(), "Parser Error")) throw;  // not SQL at all: DuckDB says where
    std::string keyword = FirstKeyword(sql);
    if (!IsReadKeyword(keyword)) RefuseWrite(keyword);
    if (!StartsWith(e.what(), "Permission Error")) throw;
    Fail(ErrorKind::kUsage, "sluice query reads only the tables of the lake: {}", e.what());
  }
  if (statements.size() > 1) {
    Fail(ErrorKind::kUsage, "sluice query runs one statement at a time; this text holds {}",
         statements.size());
  }
  if (statements.front().kind == engine::StatementKind::kOther) {
    RefuseWrite(statements.front().keyword);
  }
  if (statements.front().kind == engine::StatementKind::kExplain) {
    // EXPLAIN ANALYZE runs its statement: only a read may follow it.
    std::string rest = sql.substr(sql.find_first_not_of(" \t\r\n("));
    rest = Trim(rest.substr(FirstKeyword(rest).size()));
    std::string word = FirstKeyword(rest);
    if (word == "ANALYZE" || word == "ANALYSE") {
      std::string inner = Trim(rest.substr(word.size()));
      if (!IsReadKeyword(FirstKeyword(inner)) || FirstKeyword(inner) == "EXPLAIN") {
        RefuseWrite("EXPLAIN ANALYZE " + FirstKeyword(inner));
      }
      auto inner_kinds = conn.Inspect(inner);
      if (inner_kinds.front().kind != engine::StatementKind::kSelect) {
        RefuseWrite("EXPLAIN ANALYZE " + inner_kinds.front().keyword);
      }
    }
  }
  // Through the interruptible path, so Ctrl-C or SIGTERM stops a long query.
  return conn.QueryWithProgress(sql, nullptr);
}
}  // namespace

engine::Result QueryReadOnly(engine::Connection& conn, meta::Metastore& metastore,
                             const lake::Store& store, const std::string& sql) {
  auto unreadable = AttachTables(conn, metastore, store);
  conn.Execute(
      fmt::format("SET allowed_directories = [{}]; SET enable_external_access = false; "
                  "SET lock_configuration = true;",
                  SqlString(LocalRoot(store))));
  try {
    return CheckedQuery(conn, sql);
  } catch (const Error& e) {
    if (unreadable.empty() || e.kind() == ErrorKind::kUsage) throw;
    std::string note;
    for (const auto& u : unreadable) {
      note += fmt::format("\n  note: {} cannot be read and is left out: {}", u.table, u.error);
    }
    throw Error(e.kind(), e.what() + note);
  }
}

}  // namespace sluice::catalog
