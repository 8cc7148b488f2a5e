#include "transform/backfill.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "common/error.h"
#include "common/one_line.h"
#include "common/strings.h"

namespace sluice::transform {
namespace {

constexpr size_t kMaxRangeBytes = 4096;
constexpr size_t kMaxConditions = 32;

[[noreturn]] void Refuse(const std::string& text, size_t pos, const std::string& what) {
  FailWithCode(ErrorKind::kUsage, "usage.partitions",
               "--partitions: {} at position {} of '{}'\n  hint: write comparisons of the "
               "output's partition columns joined by `and`, e.g. 'dt>=2026-01-01 and "
               "dt<2026-02-01'",
               what, pos + 1, OneLine(text));
}

class Scanner {
 public:
  explicit Scanner(const std::string& text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  size_t pos() const { return pos_; }

  std::string Column() {
    SkipSpace();
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      std::string name = Quoted('"');
      if (name.empty()) Refuse(text_, start, "an empty column name");
      return name;
    }
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    if (pos_ == start) Refuse(text_, start, "expected a partition column");
    return text_.substr(start, pos_ - start);
  }

  CompareOp Op() {
    SkipSpace();
    static const std::pair<const char*, CompareOp> kOps[] = {
        {"<=", CompareOp::kLe}, {">=", CompareOp::kGe}, {"!=", CompareOp::kNe},
        {"<>", CompareOp::kNe}, {"=", CompareOp::kEq},  {"<", CompareOp::kLt},
        {">", CompareOp::kGt}};
    for (const auto& [spelling, op] : kOps) {
      if (text_.compare(pos_, std::char_traits<char>::length(spelling), spelling) == 0) {
        pos_ += std::char_traits<char>::length(spelling);
        return op;
      }
    }
    Refuse(text_, pos_, "expected a comparison (=, !=, <, <=, >, >=)");
  }

  std::string Value() {
    SkipSpace();
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '\'') return Quoted('\'');
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
           text_[pos_] != '\'' && text_[pos_] != '"') {
      ++pos_;
    }
    if (pos_ == start) Refuse(text_, start, "expected a value");
    if (std::string_view("=<>!").find(text_[start]) != std::string_view::npos) {
      Refuse(text_, start, "a value cannot start with a comparison (quote it if it does)");
    }
    return text_.substr(start, pos_ - start);
  }

  bool Word(const char* word) {
    SkipSpace();
    size_t n = std::char_traits<char>::length(word);
    if (pos_ + n > text_.size() || ToLower(text_.substr(pos_, n)) != word) return false;
    if (pos_ + n < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_ + n]))) {
      return false;
    }
    pos_ += n;
    return true;
  }

 private:
  // A text between `quote`s, a doubled quote standing for one.
  std::string Quoted(char quote) {
    size_t start = pos_++;
    std::string out;
    while (pos_ < text_.size()) {
      if (text_[pos_] == quote) {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
          out += quote;
          pos_ += 2;
          continue;
        }
        ++pos_;
        return out;
      }
      out += text_[pos_++];
    }
    Refuse(text_, start, fmt::format("a quote ({}) that is never closed", quote));
  }

  const std::string& text_;
  size_t pos_ = 0;
};

const char* OpSql(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "=";
}

const std::string& TypeOf(const ColumnTypes& types, const std::string& column) {
  auto it = types.find(ToLower(column));
  if (it == types.end()) {
    FailWithCode(ErrorKind::kUsage, "usage.partitions",
                 "--partitions: {} is not a partition column of the output", column);
  }
  return it->second;
}

std::string CastValue(const std::string& value, const std::string& type) {
  return fmt::format("TRY_CAST({} AS {})", SqlString(value), type);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecoded(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int hi = 0, lo = 0;
    if (text[i] == '%' && i + 2 < text.size() && (hi = HexDigit(text[i + 1])) >= 0 &&
        (lo = HexDigit(text[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

PartitionRange ParsePartitionRange(const std::string& text) {
  if (text.size() > kMaxRangeBytes) {
    FailWithCode(ErrorKind::kUsage, "usage.partitions",
                 "--partitions: the range is {} bytes long; at most {} are allowed", text.size(),
                 kMaxRangeBytes);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      FailWithCode(ErrorKind::kUsage, "usage.partitions",
                   "--partitions: a control character (0x{:02x}) at position {}; write the range "
                   "as plain text",
                   c, i + 1);
    }
  }
  PartitionRange range{text, {}};
  Scanner in(text);
  if (in.AtEnd()) {
    FailWithCode(ErrorKind::kUsage, "usage.partitions",
                 "--partitions: the range is empty\n  hint: e.g. --partitions "
                 "'dt>=2026-01-01 and dt<2026-02-01'");
  }
  while (true) {
    if (range.conditions.size() == kMaxConditions) {
      Refuse(text, in.pos(), fmt::format("more than {} comparisons", kMaxConditions));
    }
    PartitionCondition c;
    c.column = in.Column();
    c.op = in.Op();
    c.value = in.Value();
    range.conditions.push_back(std::move(c));
    if (in.AtEnd()) break;
    size_t at = in.pos();
    if (!in.Word("and")) Refuse(text, at, "expected `and` or the end");
  }
  return range;
}

std::vector<std::string> RangeColumns(const PartitionRange& range) {
  std::vector<std::string> out;
  for (const auto& c : range.conditions) {
    std::string name = ToLower(c.column);
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string RangeSql(const PartitionRange& range, const ColumnTypes& types) {
  std::vector<std::string> parts;
  for (const auto& c : range.conditions) {
    parts.push_back(fmt::format("{} {} {}", SqlIdent(c.column), OpSql(c.op),
                                CastValue(c.value, TypeOf(types, c.column))));
  }
  return "(" + Join(parts, " AND ") + ")";
}

void CheckRangeValues(engine::Connection& conn, const PartitionRange& range,
                      const ColumnTypes& types) {
  for (const auto& c : range.conditions) {
    const std::string& type = TypeOf(types, c.column);
    // 1: the type cannot hold it; 2: it holds it only rounded (1.5 as an INTEGER is 2, a
    // time of day as a DATE is that day), which would pick partitions the range does not name.
    const std::string v = SqlString(c.value), cast = CastValue(c.value, type);
    auto r = conn.Query(fmt::format(
        "SELECT CASE WHEN {1} IS NULL THEN 1 "
        "WHEN TRY_CAST({0} AS DOUBLE) <> TRY_CAST({1} AS DOUBLE) THEN 2 "
        "WHEN TRY_CAST({0} AS TIMESTAMP) <> TRY_CAST({1} AS TIMESTAMP) THEN 2 ELSE 0 END, "
        "CAST({1} AS VARCHAR)",
        v, cast));
    int64_t fault = r.GetInt(0, 0);
    if (fault == 1) {
      FailWithCode(ErrorKind::kUsage, "usage.partitions",
                   "--partitions: '{}' is not a valid {} for {}", OneLine(c.value), type, c.column);
    }
    if (fault == 2) {
      FailWithCode(ErrorKind::kUsage, "usage.partitions",
                   "--partitions: '{}' is not exactly of type {} for {} (it would be {})",
                   OneLine(c.value), type, c.column, r.GetOr(1, 0));
    }
  }
}

std::vector<std::string> FilesInRange(engine::Connection& conn, const PartitionRange& range,
                                      const ColumnTypes& types,
                                      const std::vector<meta::TableFile>& files) {
  if (files.empty()) return {};
  auto columns = RangeColumns(range);
  std::vector<std::string> rows;
  for (const auto& f : files) {
    std::map<std::string, std::string> values;
    for (const auto& part : Split(f.partition, '/')) {
      auto eq = part.find('=');
      if (eq == std::string::npos) continue;
      values[ToLower(PercentDecoded(part.substr(0, eq)))] = PercentDecoded(part.substr(eq + 1));
    }
    std::vector<std::string> row{SqlString(f.key)};
    for (const auto& column : columns) {
      auto v = values.find(column);
      const std::string& type = TypeOf(types, column);
      row.push_back(v == values.end() || v->second == "NULL" ||
                            v->second == "__HIVE_DEFAULT_PARTITION__"
                        ? fmt::format("CAST(NULL AS {})", type)
                        : CastValue(v->second, type));
    }
    rows.push_back("(" + Join(row, ", ") + ")");
  }
  std::vector<std::string> names{"_key"};
  for (const auto& column : columns) names.push_back(SqlIdent(column));
  auto r = conn.Query(fmt::format("SELECT _key FROM (VALUES {}) t({}) WHERE coalesce({}, false)",
                                  Join(rows, ", "), Join(names, ", "), RangeSql(range, types)));
  std::vector<std::string> keys;
  for (size_t i = 0; i < r.row_count(); ++i) keys.push_back(r.GetOr(0, i));
  return keys;
}

}  // namespace sluice::transform
