#include "catalog/query.h"

#include <fmt/format.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "catalog/catalog.h"
#include "catalog/csv_text.h"
#include "catalog/time_travel.h"
#include "common/error.h"
#include "common/sandbox.h"
#include "common/strings.h"
#include "engine/sql_shape.h"

namespace sluice::catalog {

namespace {

[[noreturn]] void RefuseWrite(const std::string& what) {
  FailWithCode(ErrorKind::kUsage, "query.write_refused",
               "sluice query is read-only: {} statements are not allowed\n"
               "  hint: tables are written by jobs and models (`sluice run`); query them with "
               "SELECT",
               what.empty() ? "such" : what);
}

// Half the machine's memory, in DuckDB's notation: the default memory limit.
std::string HalfOfMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return "1GB";
  return fmt::format("{}MB", std::max<int64_t>(64, static_cast<int64_t>(pages) * page / 2 >> 20));
}

// Refuses a SELECT that reads bronze.<s> of a source in `uncrawled` (by lower-cased name).
void RequireCrawled(engine::Connection& conn, const std::string& statement,
                    const std::map<std::string, std::string>& uncrawled) {
  if (uncrawled.empty()) return;
  auto parsed = engine::ParseSql(conn, statement);
  if (parsed.select.is_null()) return;  // EXPLAIN: DuckDB names what is missing
  std::string source;
  engine::ForeignRead(parsed.select, [&](const std::string& schema, const std::string& name) {
    auto it = uncrawled.find(ToLower(name));
    if (ToLower(schema) != "bronze" || it == uncrawled.end()) return true;
    source = it->second;
    return false;
  });
  if (source.empty()) return;
  FailWithCode(ErrorKind::kInput, "input.not_in_catalog",
               "bronze.{} is not in the catalog yet; run `sluice crawl {}`", source, source);
}

}  // namespace

std::string CheckedStatement(engine::Connection& conn, const std::string& sql) {
  auto parsed = engine::ParseSql(conn, sql);
  if (parsed.statements == 0) {
    FailWithCode(ErrorKind::kUsage, "usage.empty_query",
                 "sluice query needs a statement; the text holds none\n"
                 "  hint: e.g. sluice query \"SELECT * FROM silver.orders LIMIT 10\"");
  }
  if (parsed.statements > 1) {
    FailWithCode(ErrorKind::kUsage, "query.multiple_statements",
                 "sluice query runs one statement at a time; this text holds {}",
                 parsed.statements);
  }
  if (!parsed.select.is_null()) return engine::WithoutTerminator(conn, sql);
  if (engine::FirstWord(sql) == "EXPLAIN") {
    // EXPLAIN ANALYZE runs its statement, and options may ask for it: only `EXPLAIN <SELECT>`
    // passes, and what runs is EXPLAIN of the text that parsed as that one SELECT.
    size_t at = engine::FirstWordAt(sql);
    std::string inner = sql.substr(at + std::string("EXPLAIN").size());
    bool select = false;
    try {
      auto parsed_inner = engine::ParseSql(conn, inner);
      select = parsed_inner.statements == 1 && !parsed_inner.select.is_null();
    } catch (const Error&) {
      select = false;  // "(FORMAT json, ANALYZE) ..." is no statement of its own: refused below
    }
    if (!select) {
      FailWithCode(ErrorKind::kUsage, "query.write_refused",
                   "sluice query is read-only: EXPLAIN is allowed only as `EXPLAIN SELECT ...` "
                   "(no ANALYZE, no options)");
    }
    return "EXPLAIN " + inner;
  }
  // Named by its kind where it binds (a DELETE on a missing table does not) and the kind has a
  // keyword (PRAGMA binds as a SELECT, VACUUM as no kind DuckDB names): the message only.
  std::string what;
  try {
    what = conn.Inspect(sql).front().keyword;
  } catch (const Error&) {
    what.clear();
  }
  if (what.empty() || what == "SELECT" || what.find(' ') != std::string::npos)
    what = engine::FirstWord(sql);
  RefuseWrite(what);
}

void RunQuery(meta::CatalogStore& metastore, const lake::Store& store, const std::string& sql,
              const project::QuerySettings& limits, const std::vector<std::string>& sources,
              const std::function<void(engine::Result&)>& print) {
  auto tables = ListTables(metastore);
  std::map<std::string, std::string> uncrawled;  // by lower-cased name
  for (const auto& s : sources) uncrawled.emplace(ToLower(s), s);
  for (const auto& t : tables) {
    if (t.table.db == "bronze") uncrawled.erase(ToLower(t.table.name));
  }
  // Tables read AT a version are views of that version's files (time_travel.h).
  auto travel = ResolveTimeTravel(metastore, sql);
  tables.insert(tables.end(), travel.tables.begin(), travel.tables.end());
  // Fetched before the sandbox closes: the child reads only these folders (and its scratch).
  // Files read from UTF-8 copies (csv_text.h) are copied here too, outside the sandbox.
  lake::Fetched held;
  for (const auto& t : tables) {
    std::vector<std::string> keys;
    for (const auto& f : t.files) keys.push_back(f.key);
    FetchForReading(store, t.table, keys, held);
  }
  std::vector<std::string> folders = held.Folders();
  // Removed however the query ends; a folder left behind holds nothing anyone reads.
  const ScopedFolder scratch_folder(store.ScratchDir());
  const std::filesystem::path& scratch = scratch_folder.path;
  SandboxPolicy policy{{folders.begin(), folders.end()}, scratch, limits.timeout_ms};
  auto end = RunSandboxed(policy, [&] {
    // Opened here, inside the sandbox: DuckDB's threads start restricted.
    engine::Database db;
    engine::Connection conn(db);
    conn.Execute(fmt::format(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; "
        "SET temp_directory = {}; SET memory_limit = {};",
        SqlString(scratch.string()),
        SqlString(limits.memory_limit.empty() ? HalfOfMemory() : limits.memory_limit)));
    auto unreadable = AttachTables(conn, tables, store, held);
    conn.Execute(
        fmt::format("SET allowed_directories = {}; SET enable_external_access = false; "
                    "SET lock_configuration = true;",
                    SqlStringList(folders)));
    try {
      std::string statement = CheckedStatement(conn, travel.sql);
      RequireCrawled(conn, statement, uncrawled);
      if (!StartsWith(statement, "EXPLAIN ")) statement = engine::Printable(conn, statement);
      engine::Result result = [&] {
        try {
          // Through the interruptible path, so Ctrl-C stops a long query.
          return conn.QueryWithProgress(statement, nullptr);
        } catch (const Error& e) {
          if (StartsWith(e.what(), "Out of Memory Error")) {
            // DuckDB's own advice (SET memory_limit) is a statement sluice query refuses.
            FailWithCode(
                ErrorKind::kInput, "query.memory_limit",
                "the query needs more memory than its limit ({}) allows\n  hint: raise "
                "`query: {{ memory_limit: ... }}` in sluice.yaml, or select fewer or "
                "smaller rows",
                limits.memory_limit.empty() ? "half the machine's memory" : limits.memory_limit);
          }
          if (!StartsWith(e.what(), "Permission Error")) throw;
          FailWithCode(ErrorKind::kUsage, "query.outside_lake",
                       "sluice query reads only the tables of the lake: {}", e.what());
        }
      }();
      if (limits.max_rows > 0 && result.row_count() > static_cast<size_t>(limits.max_rows)) {
        FailWithCode(ErrorKind::kInput, "query.row_limit",
                     "the answer has {} rows, more than the limit of {}\n"
                     "  hint: add a LIMIT or aggregate, or raise the limit with --max-rows N "
                     "(or query: max_rows in sluice.yaml; 0 lifts it)",
                     result.row_count(), limits.max_rows);
      }
      print(result);
    } catch (const Error& e) {
      if (unreadable.empty() || e.kind() == ErrorKind::kUsage) throw;
      for (const auto& u : unreadable) {
        // A version read AT: its view is named _sluice_at.<db>__<name>__v<n> (time_travel.h).
        if (!StartsWith(u.table, "_sluice_at.")) continue;
        std::string view = u.table.substr(std::string("_sluice_at.").size());
        size_t v = view.rfind("__v"), dot = view.find("__");
        if (v == std::string::npos || dot >= v) continue;
        FailWithCode(ErrorKind::kInput, "query.unknown_version",
                     "version {} of {}.{} can no longer be read: {}\n  hint: a file it lists was "
                     "taken out of the lake since (`sluice landing remove`, or a drop)",
                     view.substr(v + 3), view.substr(0, dot), view.substr(dot + 2, v - dot - 2),
                     u.error);
      }
      std::string note;
      for (const auto& u : unreadable) {
        note += fmt::format("\n  note: {} cannot be read and is left out: {}", u.table, u.error);
      }
      throw Error(e.kind(), e.code(), e.what() + note);
    }
  });
  if (end == SandboxEnd::kTimedOut) {
    FailWithCode(ErrorKind::kInput, "query.timeout",
                 "the query ran longer than its limit of {} s and was stopped\n"
                 "  hint: raise it with query: timeout in sluice.yaml, or narrow the query",
                 limits.timeout_ms / 1000.0);
  }
}

}  // namespace sluice::catalog
