#include "meta/transfer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/one_line.h"
#include "common/strings.h"
#include "meta/sql_core.h"
#include "meta/sql_metastore.h"

namespace sluice::meta {

using nlohmann::json;
using Statement = SqlCore::Statement;

const std::vector<std::string> kTransferTables = {
    "databases",    "tables",     "table_versions", "columns",          "table_files",
    "runs",         "run_steps",  "bookmarks",      "check_results",    "landed_files",
    "steps",        "attempts",   "run_logs",       "arrivals",         "schedule_marks",
    "column_tags",  "api_tokens", "snapshots",      "landing_removals", "extract_state",
    "extract_files"};

namespace {

constexpr std::string_view kFormat = "sluice-metastore-export";
constexpr size_t kMaxLine = size_t{256} << 20;
constexpr int kMaxDepth = 4;
constexpr int kFormatVersion = 1;

// What a column holds, from its declared type.
enum class ColumnKind { kInteger, kReal, kText };

struct TableColumn {
  std::string name;
  ColumnKind kind;
};

// The columns of `table` in `core`'s schema, without the dialect's own (insertion_order).
std::vector<TableColumn> ColumnsOf(SqlCore& core, const std::string& table) {
  Statement s(core, core.dialect().ColumnTypes());
  s.Bind(1, table);
  std::vector<TableColumn> out;
  while (s.Step()) {
    std::string name = s.Text(0), type = s.Text(1);
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (name == core.dialect().InsertionOrder()) continue;
    ColumnKind kind =
        type.find("INT") != std::string::npos ? ColumnKind::kInteger
        : type.find("REAL") != std::string::npos || type.find("DOUBLE") != std::string::npos
            ? ColumnKind::kReal
            : ColumnKind::kText;
    out.push_back({name, kind});
  }
  return out;
}

std::vector<std::string> Names(const std::vector<TableColumn>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

int64_t Count(SqlCore& core, const std::string& table) {
  Statement s(core, "SELECT count(*) FROM " + table);
  s.Step();
  return s.Int(0);
}

[[noreturn]] void Bad(size_t line, const std::string& what) {
  FailWithCode(ErrorKind::kInput, "metastore.bad_export",
               "line {} of the export: {}\n  hint: import a file `sluice metastore export` wrote, "
               "whole and unchanged",
               line, what);
}

// A field of an object read by hand: the file is not trusted to give it the type it should have.
std::string TextField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t IntegerField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

}  // namespace

TransferReport Export(const std::string& uri, std::ostream& out) {
  auto core = Connect(uri, true);
  TransferReport report{
      std::string(core->dialect().name()), core->where(), core->schema_version(), {}};
  auto lock = core->Lock();
  for (const auto& t : kTransferTables) report.rows[t] = Count(*core, t);
  out << json{{"format", kFormat},
              {"format_version", kFormatVersion},
              {"schema_version", report.schema_version},
              {"dialect", report.dialect},
              {"tables", report.rows}}
             .dump()
      << "\n";
  for (const auto& t : kTransferTables) {
    auto columns = Names(ColumnsOf(*core, t));
    out << json{{"table", t}, {"columns", columns}}.dump() << "\n";
    Statement s(*core, fmt::format("SELECT {} FROM {} ORDER BY {}", Join(columns, ", "), t,
                                   core->dialect().InsertionOrder()));
    int64_t written = 0;
    // At most the header's count: rows written since it was taken are left out, so the file
    // agrees with itself.
    while (written < report.rows[t] && s.Step()) {
      if (Interrupted()) Fail(ErrorKind::kInterrupted, "interrupted");
      json row = json::array();
      for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
        switch (s.Type(i)) {
          case SqlType::kNull:
            row.push_back(nullptr);
            break;
          case SqlType::kInteger:
            row.push_back(s.Int(i));
            break;
          case SqlType::kReal:
            row.push_back(s.Double(i));
            break;
          case SqlType::kText:
            row.push_back(s.Text(i));
            break;
        }
      }
      // Bytes that are not UTF-8 (a snapshot is stored as base64 when it has any) are kept as
      // they are rather than failing the export.
      out << row.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      ++written;
    }
    report.rows[t] = written;
  }
  out.flush();
  if (!out) Fail(ErrorKind::kIo, "cannot write the export");
  return report;
}

TransferReport Import(const std::string& uri, std::istream& in) {
  size_t line_no = 0;
  std::string line;
  // Reads the next line into `v`; false at the end of the file. A line is at most kMaxLine
  // bytes (a stored snapshot is the longest) and JSON at most kMaxDepth deep (a row is an array
  // of values).
  auto next = [&](json& v) {
    line.clear();
    int c;
    while ((c = in.get()) != EOF && c != '\n') {
      if (line.size() == kMaxLine) {
        Bad(line_no + 1, fmt::format("a line longer than {} MiB", kMaxLine >> 20));
      }
      line.push_back(static_cast<char>(c));
    }
    if (c == EOF && line.empty()) return false;
    ++line_no;
    auto depth = [&](int d, json::parse_event_t, json&) {
      if (d > kMaxDepth) Bad(line_no, "JSON nested deeper than an export's");
      return true;
    };
    v = json::parse(line, depth, /*allow_exceptions=*/false);
    if (v.is_discarded()) Bad(line_no, "not a JSON value");
    return true;
  };
  json first;
  const json* header = next(first) ? &first : nullptr;
  if (!header || !header->is_object() || TextField(*header, "format") != kFormat) {
    Bad(1,
        "not a metastore export (its first line has no \"format\": \"sluice-metastore-"
        "export\")");
  }
  if (IntegerField(*header, "format_version") != kFormatVersion) {
    Bad(1, fmt::format("format version {} is not {}", IntegerField(*header, "format_version"),
                       kFormatVersion));
  }
  auto counts_at = header->find("tables");
  if (counts_at == header->end() || !counts_at->is_object()) {
    Bad(1, "\"tables\" is not an object of counts");
  }
  const json& counts = *counts_at;
  std::map<std::string, int64_t> expected;
  for (const auto& [name, n] : counts.items()) {
    if (std::find(kTransferTables.begin(), kTransferTables.end(), name) == kTransferTables.end()) {
      Bad(1, fmt::format("unknown table '{}'", OneLine(name, 100)));
    }
    if (!n.is_number_integer() || n.get<int64_t>() < 0) {
      Bad(1, fmt::format("the count of {} is not a number of rows", name));
    }
    expected[name] = n.get<int64_t>();
  }

  auto core = Connect(uri, true);
  TransferReport report{
      std::string(core->dialect().name()), core->where(), core->schema_version(), {}};
  int64_t file_version = IntegerField(*header, "schema_version");
  if (file_version != report.schema_version) {
    FailWithCode(ErrorKind::kConfig, "metastore.schema_mismatch",
                 "the export has schema version {}, the metastore {} has {}\n  hint: export with "
                 "the sluice release that imports (its commands migrate the metastore first)",
                 file_version, report.where, report.schema_version);
  }
  SqlCore::Transaction tx(*core);
  for (const auto& t : kTransferTables) {
    if (int64_t n = Count(*core, t); n > 0) {
      FailWithCode(ErrorKind::kConfig, "metastore.not_empty",
                   "the metastore {} is not empty ({} holds {} row{}); import only into a new "
                   "one\n  hint: point the environment's `metastore:` at a new database or file",
                   report.where, t, n, n == 1 ? "" : "s");
    }
  }
  std::set<std::string> seen;
  json row;
  bool more = next(row);
  const json* v = &row;
  while (more) {
    if (!v->is_object() || !v->contains("table")) Bad(line_no, "expected a table's line");
    std::string table = TextField(*v, "table");
    if (!expected.count(table)) {
      Bad(line_no, fmt::format("unknown table '{}'", OneLine(table, 100)));
    }
    if (!seen.insert(table).second) Bad(line_no, fmt::format("table {} comes twice", table));
    auto columns_at = v->find("columns");
    if (columns_at == v->end() || !columns_at->is_array() || columns_at->empty()) {
      Bad(line_no, "\"columns\" is not a list");
    }
    const json& columns = *columns_at;
    auto known = ColumnsOf(*core, table);
    std::vector<TableColumn> names;
    for (const auto& c : columns) {
      auto it = std::find_if(known.begin(), known.end(), [&](const TableColumn& k) {
        return c.is_string() && k.name == c.get<std::string>();
      });
      if (it == known.end()) {
        Bad(line_no, c.is_string() ? fmt::format("table {} has no column \"{}\"", table,
                                                 OneLine(c.get<std::string>(), 100))
                                   : fmt::format("a column of {} is not a name", table));
      }
      names.push_back(*it);
    }
    const std::string insert =
        fmt::format("INSERT INTO {} ({}) VALUES ({})", table, Join(Names(names), ", "),
                    Join(std::vector<std::string>(names.size(), "?"), ", "));
    int64_t rows = 0;
    while ((more = next(row)) && v->is_array()) {
      if (v->size() != names.size()) {
        Bad(line_no, fmt::format("a row of {} has {} values for {} columns", table, v->size(),
                                 names.size()));
      }
      if (Interrupted()) Fail(ErrorKind::kInterrupted, "interrupted");
      Statement s(*core, insert);
      for (size_t i = 0; i < names.size(); ++i) {
        const json& x = (*v)[i];
        const TableColumn& column = names[i];
        int p = static_cast<int>(i) + 1;
        auto wrong = [&](const char* wanted) {
          Bad(line_no, fmt::format("{}.{} takes {}, not {}", table, column.name, wanted,
                                   x.is_string()   ? "a text"
                                   : x.is_number() ? "that number"
                                                   : x.type_name()));
        };
        if (x.is_null()) {
          s.BindNull(p);
        } else if (column.kind == ColumnKind::kInteger) {
          // An unsigned value past int64's range would wrap.
          if (!x.is_number_integer() ||
              (x.is_number_unsigned() && x.get<uint64_t>() > uint64_t{INT64_MAX})) {
            wrong("an integer");
          }
          s.Bind(p, x.get<int64_t>());
        } else if (column.kind == ColumnKind::kReal) {
          if (!x.is_number()) wrong("a number");
          s.BindReal(p, x.get<double>());
        } else {
          if (!x.is_string()) wrong("a text");
          s.Bind(p, x.get<std::string>());
        }
      }
      try {
        s.Run();
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kInterrupted) throw;
        // A key twice, a reference to a row that is not there, a NULL where one is required.
        Bad(line_no, fmt::format("the metastore refused this row of {}: {}", table, e.what()));
      }
      ++rows;
    }
    if (rows != expected[table]) {
      Bad(line_no, fmt::format("{} has {} rows, its header says {}", table, rows, expected[table]));
    }
    core->ResumeKeys(table);
  }
  if (in.bad()) Fail(ErrorKind::kIo, "cannot read the export");
  for (const auto& [table, n] : expected) {
    if (!seen.count(table) && n > 0) {
      Bad(line_no, fmt::format("the file ends before table {} ({} rows)", table, n));
    }
  }
  for (const auto& t : kTransferTables) {
    report.rows[t] = Count(*core, t);
    if (report.rows[t] != (expected.count(t) ? expected[t] : 0)) {
      Fail(ErrorKind::kInternal, "import: {} holds {} rows after the import, the file {}", t,
           report.rows[t], expected[t]);
    }
  }
  tx.Commit();
  return report;
}

}  // namespace sluice::meta
