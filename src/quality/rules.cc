#include "quality/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/strings.h"
#include "engine/duplicates.h"
#include "engine/moments.h"
#include "engine/pattern.h"
#include "engine/sql_shape.h"

namespace sluice::quality {

namespace {

const std::vector<std::string> kRuleTypes = {"RowCount",
                                             "ColumnCount",
                                             "ColumnExists",
                                             "ColumnDataType",
                                             "ColumnNamesMatchPattern",
                                             "IsComplete",
                                             "Completeness",
                                             "IsUnique",
                                             "Uniqueness",
                                             "UniqueValueRatio",
                                             "IsPrimaryKey",
                                             "DistinctValuesCount",
                                             "ColumnValues",
                                             "ColumnLength",
                                             "Mean",
                                             "Sum",
                                             "StandardDeviation",
                                             "Entropy",
                                             "ColumnCorrelation",
                                             "DataFreshness",
                                             "CustomSql",
                                             "ReferentialIntegrity",
                                             "RowCountMatch",
                                             "SchemaMatch",
                                             "AggregateMatch",
                                             "DatasetMatch"};

// How many quoted arguments each type takes (min, max), and whether it needs a condition.
struct Shape {
  int min_args, max_args;
  bool condition;  // required
  bool row;        // row-level
};
const std::map<std::string, Shape>& Shapes() {
  static const std::map<std::string, Shape> shapes = {
      {"RowCount", {0, 0, true, false}},
      {"ColumnCount", {0, 0, true, false}},
      {"ColumnExists", {1, 1, false, false}},
      {"ColumnDataType", {1, 1, true, false}},
      {"ColumnNamesMatchPattern", {1, 1, false, false}},
      {"IsComplete", {1, 1, false, true}},
      {"Completeness", {1, 1, true, false}},
      {"IsUnique", {1, 1, false, true}},
      {"Uniqueness", {1, 1, true, false}},
      {"UniqueValueRatio", {1, 1, true, false}},
      {"IsPrimaryKey", {1, 8, false, false}},
      {"DistinctValuesCount", {1, 1, true, false}},
      {"ColumnValues", {1, 1, true, true}},
      {"ColumnLength", {1, 1, true, true}},
      {"Mean", {1, 1, true, false}},
      {"Sum", {1, 1, true, false}},
      {"StandardDeviation", {1, 1, true, false}},
      {"Entropy", {1, 1, true, false}},
      {"ColumnCorrelation", {2, 2, true, false}},
      {"DataFreshness", {1, 1, true, true}},
      {"CustomSql", {1, 1, true, false}},
      {"ReferentialIntegrity", {2, 2, true, false}},
      {"RowCountMatch", {1, 1, true, false}},
      {"SchemaMatch", {1, 1, true, false}},
      {"AggregateMatch", {2, 2, true, false}},
      {"DatasetMatch", {2, 2, true, false}},
  };
  return shapes;
}

// -- tokens -------------------------------------------------------------------------------------

struct Token {
  enum Kind { kWord, kString, kNumber, kOp, kPunct, kEnd } kind;
  std::string text;
  size_t offset;
};

bool Tokenize(const std::string& s, std::vector<Token>& out, ParseError& error) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {  // a comment to the end of the line
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      std::string text;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size() && (s[j + 1] == c || s[j + 1] == '\\')) ++j;
        text += s[j];
      }
      if (j >= s.size()) {
        error = {i, "unterminated quoted text"};
        return false;
      }
      out.push_back({Token::kString, text, i});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({Token::kNumber, s.substr(i, j - i), i});
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::kWord, s.substr(i, j - i), i});
      i = j;
    } else if (c == '>' || c == '<' || c == '=' || c == '!') {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '=') ++j;
      std::string op = s.substr(i, j - i);
      if (op == "!") {
        error = {i, "expected '!='"};
        return false;
      }
      out.push_back({Token::kOp, op == "==" ? "=" : op, i});
      i = j;
    } else if (std::string("[](),+-*/").find(c) != std::string::npos) {
      out.push_back({Token::kPunct, std::string(1, c), i});
      ++i;
    } else {
      error = {i, fmt::format("unexpected character '{}'", c)};
      return false;
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return true;
}

bool IsWord(const Token& t, const char* w) {
  return t.kind == Token::kWord && ToLower(t.text) == w;
}

// -- parser -------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(const std::string& text, std::vector<Token> tokens, ParseError& error)
      : src_(text), t_(std::move(tokens)), error_(error) {}

  std::optional<std::vector<Rule>> RuleSet() {
    std::vector<Rule> out;
    if (IsWord(Peek(), "rules")) {
      Next();
      if (Peek().text != "=") return Err(Peek(), "expected '=' after Rules");
      Next();
      if (Peek().text != "[") return Err(Peek(), "expected '[' to start the list of rules");
      Next();
      while (Peek().text != "]") {
        auto r = Composite();
        if (!r) return std::nullopt;
        out.push_back(std::move(*r));
        if (Peek().text == ",") {
          Next();
          continue;
        }
        if (Peek().text != "]") return Err(Peek(), "expected ',' between rules or ']' to end");
      }
      Next();
    } else {
      auto r = Composite();
      if (!r) return std::nullopt;
      out.push_back(std::move(*r));
    }
    if (Peek().kind != Token::kEnd) return Err(Peek(), "unexpected '" + Peek().text + "'");
    return out;
  }

 private:
  const Token& Peek(size_t ahead = 0) { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  const Token& Next() { return t_[std::min(pos_++, t_.size() - 1)]; }
  std::nullopt_t Err(const Token& at, std::string message) {
    if (error_.message.empty()) error_ = {at.offset, std::move(message)};
    return std::nullopt;
  }
  std::string Text(size_t from, size_t to) { return Trim(src_.substr(from, to - from)); }

  // Rules and values nest by recursion: a bound on the depth keeps any text, however deep, from
  // overflowing the stack (and compiling and evaluating rules recurse no deeper than this).
  static constexpr int kMaxDepth = 256;
  class Nested {
   public:
    explicit Nested(Parser& p) : p_(p) { ++p_.depth_; }
    ~Nested() { --p_.depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;
    bool too_deep() const { return p_.depth_ > kMaxDepth; }

   private:
    Parser& p_;
  };
  std::nullopt_t TooDeep(const Token& at) {
    return Err(at, fmt::format("nested more than {} levels deep", kMaxDepth));
  }

  // rule ((and|or) rule)*, where a part of a composite is parenthesized.
  std::optional<Rule> Composite() {
    size_t start = Peek().offset;
    Token first_at = Peek();
    auto first = Term();
    if (!first) return std::nullopt;
    if (!IsWord(Peek(), "and") && !IsWord(Peek(), "or")) return first;
    Rule c;
    c.type = ToLower(Peek().text);
    if (first->dynamic()) return DynamicPart(first_at);
    c.parts.push_back(std::move(*first));
    while (IsWord(Peek(), "and") || IsWord(Peek(), "or")) {
      if (ToLower(Peek().text) != c.type) {
        return Err(Peek(), "mixing 'and' and 'or' needs parentheses around each group");
      }
      Next();
      Token at = Peek();
      auto next = Term();
      if (!next) return std::nullopt;
      if (next->dynamic()) return DynamicPart(at);
      c.parts.push_back(std::move(*next));
    }
    c.text = Text(start, Peek().offset);
    return c;
  }

  // History is kept per rule: a part of a composite has none of its own.
  std::nullopt_t DynamicPart(const Token& at) {
    return Err(at,
               "a dynamic threshold (avg(last(N)), ...) cannot be part of an and/or rule: its "
               "history is kept per rule; write it as a rule of its own");
  }

  std::optional<Rule> Term() {
    if (Peek().text == "(") {
      Nested nested(*this);
      if (nested.too_deep()) return TooDeep(Peek());
      Next();
      auto r = Composite();
      if (!r) return std::nullopt;
      if (Peek().text != ")") return Err(Peek(), "expected ')'");
      Next();
      return r;
    }
    return Simple();
  }

  std::optional<Rule> Simple() {
    const Token& head = Peek();
    size_t start = head.offset;
    if (head.kind != Token::kWord) return Err(head, "expected a rule type such as IsComplete");
    auto it = Shapes().find(head.text);
    if (it == Shapes().end()) {
      // DQDL type names are case-sensitive; accept a case slip with a clear message.
      std::string near = Nearest(head.text, kRuleTypes);
      return Err(head, fmt::format("unknown rule type '{}'{}", head.text,
                                   near.empty() ? "; expected one of " + Join(kRuleTypes, ", ")
                                                : fmt::format(" (did you mean '{}'?)", near)));
    }
    Next();
    Rule rule;
    rule.type = head.text;
    const Shape& shape = it->second;
    while (Peek().kind == Token::kString && static_cast<int>(rule.args.size()) < shape.max_args) {
      rule.args.push_back(Next().text);
    }
    if (static_cast<int>(rule.args.size()) < shape.min_args) {
      return Err(Peek(), shape.min_args == 1 && rule.type != "CustomSql" &&
                                 rule.type != "ColumnNamesMatchPattern" &&
                                 rule.type != "RowCountMatch" && rule.type != "SchemaMatch"
                             ? "expected a quoted column name"
                             : fmt::format("{} takes {} quoted argument{}", rule.type,
                                           shape.min_args, shape.min_args == 1 ? "" : "s"));
    }
    if (shape.condition) {
      auto c = Cond(rule.type);
      if (!c) return std::nullopt;
      rule.condition = std::move(*c);
    }
    // `where "..."` and `with threshold ...`, in either order, once each.
    while (true) {
      if (IsWord(Peek(), "where") && rule.where.empty()) {
        Next();
        if (Peek().kind != Token::kString) return Err(Peek(), "expected a quoted SQL predicate");
        rule.where = Next().text;
      } else if (IsWord(Peek(), "with") && !rule.threshold) {
        Next();
        if (!IsWord(Peek(), "threshold")) return Err(Peek(), "expected 'threshold' after 'with'");
        if (!shape.row) {
          return Err(Peek(),
                     fmt::format("{} is not a row-level rule: it takes no threshold", rule.type));
        }
        Next();
        auto c = Cond("threshold");
        if (!c) return std::nullopt;
        rule.threshold = std::move(*c);
      } else {
        break;
      }
    }
    rule.text = Text(start, Peek().offset);
    return rule;
  }

  std::optional<Condition> Cond(const std::string& what) {
    Condition c;
    size_t start = Peek().offset;
    const Token& t = Peek();
    if (t.kind == Token::kOp) {
      c.op = Next().text;
      auto v = Expr();
      if (!v) return std::nullopt;
      c.operands.push_back(std::move(*v));
    } else if (IsWord(t, "between")) {
      Next();
      c.op = "between";
      auto lo = Expr();
      if (!lo) return std::nullopt;
      if (!IsWord(Peek(), "and")) return Err(Peek(), "expected 'and' in 'between A and B'");
      Next();
      auto hi = Expr();
      if (!hi) return std::nullopt;
      c.operands = {std::move(*lo), std::move(*hi)};
    } else if (IsWord(t, "in") || (IsWord(t, "not") && IsWord(Peek(1), "in"))) {
      c.op = IsWord(t, "not") ? "notin" : "in";
      if (c.op == "notin") Next();
      Next();
      if (Peek().text != "[") return Err(Peek(), "expected '[' to start the list of values");
      Next();
      while (true) {
        bool negative = Peek().text == "-" && Peek(1).kind == Token::kNumber;
        if (negative) Next();
        const Token& v = Next();
        if (v.kind == Token::kNumber) {
          c.operands.push_back({(negative ? "-" : "") + v.text});
        } else if (v.kind == Token::kString) {
          c.operands.push_back({SqlString(v.text)});
        } else if (IsWord(v, "null")) {
          c.operands.push_back({"NULL"});
        } else {
          return Err(v, "expected a number or a quoted value");
        }
        const Token& sep = Next();
        if (sep.text == "]") break;
        if (sep.text != ",") return Err(sep, "expected ',' or ']' in the list of values");
      }
    } else if (IsWord(t, "matches")) {
      Next();
      c.op = "matches";
      if (Peek().kind != Token::kString) return Err(Peek(), "expected a quoted regular expression");
      c.operands.push_back({SqlString(Next().text)});
    } else {
      return Err(t, what == "RowCount" || what == "threshold"
                        ? "expected a comparison such as '> 0' or 'between 1 and 10'"
                        : "expected a comparison, 'between A and B', 'in [...]' or 'matches'");
    }
    c.text = Text(start, Peek().offset);
    return c;
  }

  // Arithmetic over numbers, strings, now(), durations and history functions, as SQL.
  std::optional<Condition::Operand> Expr() {
    Condition::Operand out;
    std::string sql;
    bool ok = Sum(sql, out);
    if (!ok) return std::nullopt;
    if (out.history_fn.empty()) {
      out.sql = sql;
    } else {
      out.rest_sql = sql;  // "{h}" marks where the history value goes
    }
    return out;
  }

  bool Sum(std::string& sql, Condition::Operand& op) {
    if (!Product(sql, op)) return false;
    while (Peek().text == "+" || Peek().text == "-") {
      sql += " " + Next().text + " ";
      if (!Product(sql, op)) return false;
    }
    return true;
  }
  bool Product(std::string& sql, Condition::Operand& op) {
    if (!Factor(sql, op)) return false;
    while (Peek().text == "*" || Peek().text == "/") {
      sql += " " + Next().text + " ";
      if (!Factor(sql, op)) return false;
    }
    return true;
  }
  bool Factor(std::string& sql, Condition::Operand& op) {
    static const std::map<std::string, std::string> units = {
        {"second", "SECOND"}, {"seconds", "SECOND"}, {"minute", "MINUTE"}, {"minutes", "MINUTE"},
        {"hour", "HOUR"},     {"hours", "HOUR"},     {"day", "DAY"},       {"days", "DAY"},
        {"week", "WEEK"},     {"weeks", "WEEK"}};
    const Token& t = Peek();
    if (t.text == "-") {
      Nested nested(*this);
      if (nested.too_deep()) return TooDeep(t), false;
      Next();
      // `- - 1` must not become `--1`, an SQL comment.
      sql += sql.ends_with('-') ? " -" : "-";
      return Factor(sql, op);
    }
    if (t.text == "(") {
      Nested nested(*this);
      if (nested.too_deep()) return TooDeep(t), false;
      Next();
      sql += "(";
      if (!Sum(sql, op)) return false;
      if (Peek().text != ")") return Err(Peek(), "expected ')'"), false;
      Next();
      sql += ")";
      return true;
    }
    if (t.kind == Token::kNumber) {
      Next();
      if (Peek().kind == Token::kWord && units.count(ToLower(Peek().text))) {
        sql += fmt::format("INTERVAL {} {}", t.text, units.at(ToLower(Next().text)));
      } else {
        sql += t.text;
      }
      return true;
    }
    if (t.kind == Token::kString) {
      Next();
      sql += SqlString(t.text);
      return true;
    }
    if (IsWord(t, "now") && Peek(1).text == "(") {
      Next();
      Next();
      if (Peek().text != ")") return Err(Peek(), "expected ')' after now("), false;
      Next();
      sql += "now()";
      return true;
    }
    static const std::set<std::string> fns = {"avg", "min", "max", "sum", "stddev"};
    if (t.kind == Token::kWord && fns.count(ToLower(t.text)) && Peek(1).text == "(") {
      std::string fn = ToLower(Next().text);
      Next();
      if (!IsWord(Peek(), "last") || Peek(1).text != "(") {
        return Err(Peek(), "expected last(N), e.g. avg(last(10))"), false;
      }
      Next();
      Next();
      const Token& count = Peek();
      int n = 0;
      auto [end, ec] = std::from_chars(count.text.data(), count.text.data() + count.text.size(), n);
      if (count.kind != Token::kNumber || ec != std::errc() ||
          end != count.text.data() + count.text.size() || n < 1 || n > 1000) {
        return Err(count, "expected a number of runs from 1 to 1000"), false;
      }
      Next();
      if (Peek().text != ")") return Err(Peek(), "expected ')'"), false;
      Next();
      if (Peek().text != ")") return Err(Peek(), "expected ')'"), false;
      Next();
      if (!op.history_fn.empty()) {
        return Err(t, "one history function per value"), false;
      }
      op.history_fn = fn;
      op.history_n = n;
      sql += "{h}";
      return true;
    }
    return Err(t,
               "expected a number, a quoted value, now() or a history function such as "
               "avg(last(10))"),
           false;
  }

  const std::string& src_;
  std::vector<Token> t_;
  size_t pos_ = 0;
  ParseError& error_;
  int depth_ = 0;
};

// -- compiling ----------------------------------------------------------------------------------

std::string Col(const std::string& name) { return SqlIdent(name); }

// The text of an SQL string literal ('it''s' -> it's); nullopt for anything else.
std::optional<std::string> SqlStringValue(const std::string& sql) {
  if (sql.size() < 2 || sql.front() != '\'' || sql.back() != '\'') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < sql.size(); ++i) {
    if (sql[i] == '\'') {
      if (sql[i + 1] != '\'' || i + 2 >= sql.size()) return std::nullopt;
      ++i;
    }
    out += sql[i];
  }
  return out;
}

// SQL for `lhs <condition>` with operands already resolved to SQL. `text`: lhs is a VARCHAR.
std::string CompareSql(const std::string& lhs, const std::string& op,
                       const std::vector<std::string>& v, bool text = false) {
  if (op == "between") return fmt::format("({} BETWEEN {} AND {})", lhs, v[0], v[1]);
  if (op == "in" || op == "notin") {
    // NULL in the list means "NULL is allowed" (in) or "NULL is not" (not in); SQL's IN would
    // make every non-member NULL instead.
    std::vector<std::string> values;
    bool has_null = false;
    for (const auto& x : v) {
      if (x == "NULL") {
        has_null = true;
      } else {
        values.push_back(x);
      }
    }
    // A VARCHAR against string literals: list_contains, one pass over the list per value where
    // IN compares the whole column with each literal in turn (5x cheaper with 8 values). Same
    // answers, NULL for NULL; other types stay with IN, whose implicit casts list_contains lacks.
    // (list_contains ignores collations; no relation Sluice checks has one.)
    bool literals = text && std::all_of(values.begin(), values.end(), [](const std::string& x) {
                      return SqlStringValue(x).has_value();
                    });
    std::string list = values.empty() ? "false"
                       : literals ? fmt::format("list_contains([{}], {})", Join(values, ", "), lhs)
                                  : fmt::format("{} IN ({})", lhs, Join(values, ", "));
    if (op == "in") {
      return has_null ? fmt::format("({} IS NULL OR {})", lhs, list) : "(" + list + ")";
    }
    return has_null ? fmt::format("({} IS NOT NULL AND NOT {})", lhs, list)
                    : fmt::format("(NOT {})", list);
  }
  if (op == "matches") {
    // Patterns of classes and quantifiers go to Sluice's own matcher (engine/pattern.h), several
    // times faster than RE2; the rest to DuckDB's regexp_full_match. Both answer alike.
    auto pattern = SqlStringValue(v[0]);
    return fmt::format("{}({}, {})",
                       pattern && engine::SupportsPattern(*pattern) ? engine::kPatternMatchFunction
                                                                    : "regexp_full_match",
                       lhs, v[0]);
  }
  return fmt::format("({} {} {})", lhs, op == "!=" ? "<>" : op, v[0]);
}

// The condition's operands as SQL; nullopt when a history function has no history yet.
std::optional<std::vector<std::string>> Operands(const Condition& c, const std::string& rule,
                                                 const History& history, std::string* note) {
  std::vector<std::string> out;
  for (const auto& o : c.operands) {
    if (o.history_fn.empty()) {
      out.push_back(o.sql);
      continue;
    }
    std::vector<double> values = history ? history(rule, o.history_n) : std::vector<double>{};
    if (values.empty()) return std::nullopt;
    double h = 0;
    if (o.history_fn == "avg" || o.history_fn == "sum" || o.history_fn == "stddev") {
      double sum = std::accumulate(values.begin(), values.end(), 0.0);
      double mean = sum / static_cast<double>(values.size());
      if (o.history_fn == "avg") h = mean;
      if (o.history_fn == "sum") h = sum;
      if (o.history_fn == "stddev") {
        double sq = 0;
        for (double v : values) sq += (v - mean) * (v - mean);
        h = values.size() > 1 ? std::sqrt(sq / static_cast<double>(values.size() - 1)) : 0;
      }
    } else if (o.history_fn == "min") {
      h = *std::min_element(values.begin(), values.end());
    } else {
      h = *std::max_element(values.begin(), values.end());
    }
    std::string sql = o.rest_sql;
    std::string lit = fmt::format("{}", h);
    for (size_t at = sql.find("{h}"); at != std::string::npos; at = sql.find("{h}")) {
      sql.replace(at, 3, lit);
    }
    if (note) {
      *note = fmt::format("{}(last({})) = {} over {} run{}", o.history_fn, o.history_n, lit,
                          values.size(), values.size() == 1 ? "" : "s");
    }
    out.push_back("(" + sql + ")");
  }
  return out;
}

bool RowLevel(const Rule& r) {
  if (r.type == "and" || r.type == "or") {
    return std::all_of(r.parts.begin(), r.parts.end(), RowLevel);
  }
  auto it = Shapes().find(r.type);
  return it != Shapes().end() && it->second.row;
}

// A where filter as it goes into SQL: on lines of its own inside parentheses, the form
// RefusedSql checked, so a comment or a parenthesis in it cannot reach past it.
std::string WhereSql(const std::string& where) { return "(\n" + where + "\n)"; }

// A CustomSql statement with `primary`, the table under test, quoted (a reserved word in DuckDB).
std::string PrimaryQuoted(const Rule& r) {
  static const std::regex primary_re(R"(\bprimary\b)", std::regex::icase);
  return std::regex_replace(r.args[0], primary_re, "\"primary\"");
}

// A column's type by its name ("" when unknown).
using TypeOfColumn = std::function<std::string(const std::string&)>;

// Per-row pass predicate of a row-level rule (without its where filter).
std::string RowPass(const Rule& r, const History& history, const TypeOfColumn& type_of = nullptr) {
  if (r.type == "and" || r.type == "or") {
    std::vector<std::string> parts;
    for (const auto& p : r.parts) {
      std::string pass = RowPass(p, history, type_of);
      if (!p.where.empty()) {
        pass = fmt::format("(NOT coalesce({}, false) OR {})", WhereSql(p.where), pass);
      }
      parts.push_back(pass);
    }
    return "(" + Join(parts, r.type == "and" ? " AND " : " OR ") + ")";
  }
  std::string col = r.args.empty() ? "" : Col(r.args[0]);
  if (r.type == "IsComplete") return fmt::format("({} IS NOT NULL)", col);
  if (r.type == "IsUnique") {
    return fmt::format("({} IS NULL OR count(*) OVER (PARTITION BY {}) = 1)", col, col);
  }
  auto operands = r.condition ? Operands(*r.condition, r.text, history, nullptr) : std::nullopt;
  if (!operands) return "true";  // no history yet: nothing to judge by
  std::string value = col;
  if (r.type == "ColumnLength") value = fmt::format("length(CAST({} AS VARCHAR))", col);
  if (r.type == "DataFreshness") {
    // The value's age; the condition compares it with durations (<= 24 hours).
    value = fmt::format("(now() - CAST({} AS TIMESTAMPTZ))", col);
  }
  bool text = r.type == "ColumnValues" && type_of && type_of(r.args[0]) == "VARCHAR";
  return fmt::format("coalesce({}, true)", CompareSql(value, r.condition->op, *operands, text));
}

}  // namespace

bool Condition::dynamic() const {
  return std::any_of(operands.begin(), operands.end(),
                     [](const Operand& o) { return !o.history_fn.empty(); });
}

const std::vector<std::string>& RuleTypes() { return kRuleTypes; }

bool Rule::row_level() const { return RowLevel(*this); }

bool Rule::dynamic() const {
  return (condition && condition->dynamic()) || (threshold && threshold->dynamic()) ||
         std::any_of(parts.begin(), parts.end(), [](const Rule& p) { return p.dynamic(); });
}

bool Rule::windowed() const {
  if (type == "IsUnique") return true;
  return std::any_of(parts.begin(), parts.end(), [](const Rule& p) { return p.windowed(); });
}

std::string Rule::PassSql() const {
  std::string pass = RowPass(*this, nullptr);
  if (!where.empty()) pass = fmt::format("(NOT coalesce({}, false) OR {})", WhereSql(where), pass);
  return pass;
}

std::pair<int, int> LineColumn(const std::string& text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::optional<std::vector<Rule>> ParseRuleSet(const std::string& text, ParseError& error) {
  error = {};
  std::vector<Token> tokens;
  if (!Tokenize(text, tokens, error)) return std::nullopt;
  return Parser(text, std::move(tokens), error).RuleSet();
}

std::optional<Rule> Parse(const std::string& text, ParseError& error) {
  auto rules = ParseRuleSet(text, error);
  if (!rules) return std::nullopt;
  if (rules->size() != 1) {
    error = {0, "expected one rule"};
    return std::nullopt;
  }
  return rules->front();
}

// -- evaluation ---------------------------------------------------------------------------------

namespace {

// What a simple rule contributes to the one query, and how its outcome is read back.
struct Plan {
  // Aggregates over the table, computed once each in the inner query; observed, pass and
  // failing refer to them as @@F0@@, @@F1@@, ...
  std::vector<std::string> figures;
  std::string observed;   // SQL for the observed value (a number, or text)
  std::string pass;       // SQL for the outcome (true = pass)
  std::string failing;    // SQL counting rows that break a row-level rule ("" otherwise)
  std::string error;      // set when the rule cannot be compiled (it has no slot in the query)
  std::string run_error;  // set when its SQL failed to run (its slot holds nothing)
  std::string note;       // e.g. the history a dynamic threshold used
  bool no_history = false;
};

struct Context {
  engine::Connection& conn;
  const std::string& relation;
  std::vector<std::pair<std::string, std::string>> columns;  // name, type
  const History& history;
  const TableFacts& facts;
  std::set<const Rule*> settled;  // rules no row breaks, by the facts (SettledByRange)
};

// The NULL count of a rule's column, when the facts say it. Not for a rule with a `where`
// filter: the filter must still run (it may not bind, or fail on some row: the rule's error).
std::optional<int64_t> KnownNulls(const Context& ctx, const Rule& r) {
  if (!r.where.empty()) return std::nullopt;
  auto it = ctx.facts.find(r.args[0]);
  return it == ctx.facts.end() ? std::nullopt : it->second.nulls;
}

// The rules among `simple` that no row can break, by the least and greatest value of their column:
// a ColumnValues comparison or range passes a single interval of values, so when both ends of
// the column's values pass, every value between them does. One small query decides them all.
// Not with a `where` filter (as KnownNulls), nor against now(), which moves between that query
// and the scan.
std::set<const Rule*> SettledByRange(const std::vector<const Rule*>& simple, const Context& ctx) {
  static const std::set<std::string> interval = {"=", ">", ">=", "<", "<=", "between"};
  std::vector<const Rule*> candidates;
  std::vector<std::string> proofs;
  for (const Rule* r : simple) {
    if (r->type != "ColumnValues" || !r->condition || !interval.count(r->condition->op)) continue;
    if (!r->where.empty()) continue;
    auto it = ctx.facts.find(r->args[0]);
    if (it == ctx.facts.end() || !it->second.min || !it->second.max) continue;
    auto ops = Operands(*r->condition, r->text, ctx.history, nullptr);
    if (!ops || std::any_of(ops->begin(), ops->end(), [](const std::string& o) {
          return o.find("now()") != std::string::npos;
        })) {
      continue;
    }
    const std::string& op = r->condition->op;
    proofs.push_back(fmt::format("coalesce({} AND {}, false)",
                                 CompareSql(*it->second.min, op, *ops),
                                 CompareSql(*it->second.max, op, *ops)));
    candidates.push_back(r);
  }
  std::set<const Rule*> settled;
  if (candidates.empty()) return settled;
  try {
    auto res = ctx.conn.Query("SELECT " + Join(proofs, ", "));
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (res.GetOr(i, 0) == "true") settled.insert(candidates[i]);
    }
  } catch (const Error&) {
    // An operand that does not fit the column: the scan judges these rules, and reports it.
  }
  return settled;
}

bool HasColumn(const Context& ctx, const std::string& name) {
  return std::any_of(ctx.columns.begin(), ctx.columns.end(),
                     [&](const auto& c) { return c.first == name; });
}

std::string TypeOf(const Context& ctx, const std::string& name) {
  for (const auto& [n, t] : ctx.columns) {
    if (n == name) return t;
  }
  return "";
}

// `db.table.column` -> ("db.table", "column").
std::pair<std::string, std::string> SplitRef(const std::string& ref) {
  size_t dot = ref.rfind('.');
  if (dot == std::string::npos) return {ref, ""};
  return {ref.substr(0, dot), ref.substr(dot + 1)};
}

std::string TableSql(const std::string& name) {
  auto parts = Split(name, '.');
  std::vector<std::string> quoted;
  for (const auto& p : parts) quoted.push_back(SqlIdent(p));
  return Join(quoted, ".");
}

// Canonical type names, so that "INT" matches "INTEGER" and "STRING" matches "VARCHAR".
std::string CanonicalType(std::string t) {
  t = ToUpper(Trim(t));
  static const std::map<std::string, std::string> aliases = {
      {"INT", "INTEGER"},    {"INT4", "INTEGER"}, {"LONG", "BIGINT"},   {"INT8", "BIGINT"},
      {"STRING", "VARCHAR"}, {"TEXT", "VARCHAR"}, {"BOOL", "BOOLEAN"},  {"FLOAT8", "DOUBLE"},
      {"FLOAT4", "FLOAT"},   {"REAL", "FLOAT"},   {"SHORT", "SMALLINT"}};
  if (auto it = aliases.find(t); it != aliases.end()) return it->second;
  return t;
}

Plan Compile(const Rule& r, Context& ctx) {
  Plan p;
  const std::string where =
      r.where.empty() ? "" : fmt::format(" FILTER (WHERE {})", WhereSql(r.where));
  const std::string rel_where =
      r.where.empty() ? ctx.relation
                      : fmt::format("(SELECT * FROM {} WHERE {})", ctx.relation, WhereSql(r.where));
  for (size_t i = 0; i < r.args.size(); ++i) {
    bool is_column = r.type != "CustomSql" && r.type != "ColumnNamesMatchPattern" &&
                     r.type != "RowCountMatch" && r.type != "SchemaMatch" &&
                     r.type != "AggregateMatch" && r.type != "DatasetMatch" &&
                     !(r.type == "ReferentialIntegrity" && i == 1) && r.type != "ColumnExists";
    if (is_column && !HasColumn(ctx, r.args[i])) {
      p.error = fmt::format("column \"{}\" does not exist", r.args[i]);
      return p;
    }
  }
  std::optional<std::vector<std::string>> ops;
  if (r.condition) {
    ops = Operands(*r.condition, r.text, ctx.history, &p.note);
    if (!ops) {
      p.no_history = true;
      p.note = "no earlier results to compare with yet";
    }
  }
  auto judge = [&](const std::string& value) {
    p.figures = {value};
    p.observed = "@@F0@@";
    p.pass = ops ? CompareSql("@@F0@@", r.condition->op, *ops) : "true";
  };
  // A rule judged by a count of rows (or values) that break it: 0 passes.
  auto count_breaking = [&](const std::string& failing) {
    p.figures = {failing};
    p.failing = p.observed = "@@F0@@";
    p.pass = "(@@F0@@) = 0";
  };
  std::string col = r.args.empty() ? "" : Col(r.args[0]);
  const std::string& t = r.type;
  if (t == "RowCount") {
    judge("count(*)" + where);
  } else if (t == "ColumnCount") {
    judge(std::to_string(ctx.columns.size()));
  } else if (t == "ColumnExists") {
    p.observed = HasColumn(ctx, r.args[0]) ? "'present'" : "'absent'";
    p.pass = HasColumn(ctx, r.args[0]) ? "true" : "false";
  } else if (t == "ColumnDataType") {
    std::string type = CanonicalType(TypeOf(ctx, r.args[0]));
    std::vector<std::string> wanted;
    for (const auto& o : r.condition->operands) {
      std::string v = o.sql;
      if (v.size() >= 2 && v.front() == '\'') v = v.substr(1, v.size() - 2);
      wanted.push_back(SqlString(CanonicalType(v)));
    }
    // "DECIMAL" without precision matches every DECIMAL(p,s).
    if (type.rfind("DECIMAL(", 0) == 0 &&
        std::find(wanted.begin(), wanted.end(), SqlString("DECIMAL")) != wanted.end()) {
      type = "DECIMAL";
    }
    p.observed = SqlString(type);
    p.pass = CompareSql(SqlString(type), r.condition->op == "=" ? "in" : r.condition->op, wanted);
    if (r.condition->op == "!=") p.pass = CompareSql(SqlString(type), "notin", wanted);
  } else if (t == "ColumnNamesMatchPattern") {
    std::vector<std::string> names;
    for (const auto& [n, ty] : ctx.columns) names.push_back(SqlString(n));
    p.observed = fmt::format(
        "(SELECT count(*) FILTER (WHERE NOT regexp_full_match(n, {})) || ' not matching' FROM "
        "(SELECT unnest([{}]) AS n))",
        SqlString(r.args[0]), Join(names, ", "));
    p.pass =
        fmt::format("(SELECT bool_and(regexp_full_match(n, {})) FROM (SELECT unnest([{}]) AS n))",
                    SqlString(r.args[0]), Join(names, ", "));
  } else if (t == "IsComplete") {
    if (auto nulls = KnownNulls(ctx, r)) {
      count_breaking(std::to_string(*nulls));
    } else {
      count_breaking(fmt::format("count(*) FILTER (WHERE {} IS NULL{})", col,
                                 r.where.empty() ? "" : " AND " + WhereSql(r.where)));
    }
  } else if (t == "Completeness") {
    if (auto nulls = KnownNulls(ctx, r)) {
      judge(fmt::format("coalesce((count(*) - {}) / nullif(count(*), 0), 1.0)", *nulls));
    } else {
      judge(fmt::format("coalesce(count({}){} / nullif(count(*){}, 0), 1.0)", col, where, where));
    }
  } else if (t == "IsUnique") {
    // Values repeated: the extra copies, counted in the same pass as everything else. Integers
    // go to sluice_duplicates (engine/duplicates.h: Roaring bitmaps), several times cheaper than
    // hashing them for DISTINCT.
    static const std::set<std::string> integers = {"TINYINT",  "SMALLINT",  "INTEGER", "BIGINT",
                                                   "UTINYINT", "USMALLINT", "UINTEGER"};
    if (integers.count(TypeOf(ctx, r.args[0]))) {
      count_breaking(
          fmt::format("{}(CAST({} AS BIGINT)){}", engine::kDuplicatesFunction, col, where));
    } else {
      count_breaking(fmt::format("count({0}){1} - count(DISTINCT {0}){1}", col, where));
    }
  } else if (t == "Uniqueness" || t == "UniqueValueRatio") {
    std::string counts = fmt::format(
        "(SELECT count(*) AS n FROM {} WHERE {} IS NOT NULL GROUP BY {})", rel_where, col, col);
    judge(t == "Uniqueness"
              ? fmt::format("(SELECT coalesce(count(*) FILTER (WHERE n = 1) / nullif((SELECT "
                            "count(*) FROM {}), 0), 1.0) FROM {})",
                            rel_where, counts)
              : fmt::format("(SELECT coalesce(count(*) FILTER (WHERE n = 1) / nullif(count(*), "
                            "0), 1.0) FROM {})",
                            counts));
  } else if (t == "IsPrimaryKey") {
    std::vector<std::string> cols, nulls;
    for (const auto& a : r.args) {
      cols.push_back(Col(a));
      nulls.push_back(Col(a) + " IS NULL");
    }
    p.observed = fmt::format(
        "(SELECT count(*) FILTER (WHERE {}) + (SELECT coalesce(sum(n), 0) FROM (SELECT count(*) "
        "AS n FROM {} GROUP BY {} HAVING count(*) > 1)) FROM {})",
        Join(nulls, " OR "), rel_where, Join(cols, ", "), rel_where);
    count_breaking(p.observed);
  } else if (t == "DistinctValuesCount") {
    judge(fmt::format("count(DISTINCT {}){}", col, where));
  } else if (t == "Mean") {
    judge(fmt::format("avg({}){}", col, where));
  } else if (t == "Sum") {
    judge(fmt::format("sum({}){}", col, where));
  } else if (t == "StandardDeviation") {
    judge(fmt::format("{}({}){}", engine::kStddevFunction, col, where));
  } else if (t == "Entropy") {
    judge(fmt::format(
        "(SELECT coalesce(-sum(p * log2(p)), 0) FROM (SELECT count(*) / sum(count(*)) OVER () "
        "AS p FROM {} WHERE {} IS NOT NULL GROUP BY {}))",
        rel_where, col, col));
  } else if (t == "ColumnCorrelation") {
    judge(fmt::format("{}({}, {}){}", engine::kCorrFunction, col, Col(r.args[1]), where));
  } else if (t == "CustomSql") {
    // On a line of its own: a trailing comment in it cannot swallow the closing parenthesis.
    judge(
        fmt::format("(WITH \"primary\" AS (SELECT * FROM {})\n{}\n)", rel_where, PrimaryQuoted(r)));
  } else if (t == "ReferentialIntegrity") {
    auto [ref_table, ref_col] = SplitRef(r.args[1]);
    judge(fmt::format(
        "(SELECT coalesce(count(*) FILTER (WHERE {} IN (SELECT {} FROM {})) / nullif(count(*), "
        "0), 1.0) FROM {} WHERE {} IS NOT NULL)",
        col, SqlIdent(ref_col), TableSql(ref_table), rel_where, col));
  } else if (t == "RowCountMatch") {
    judge(fmt::format("(SELECT count(*) FROM {}) / nullif((SELECT count(*) FROM {}), 0)", rel_where,
                      TableSql(r.args[0])));
  } else if (t == "SchemaMatch") {
    std::vector<std::string> ours;
    for (const auto& [n, ty] : ctx.columns) ours.push_back(SqlString(n + " " + ty));
    judge(fmt::format(
        "(SELECT count(*) FILTER (WHERE s IN (SELECT unnest([{}]))) / nullif(greatest(count(*), "
        "{}), 0) FROM (SELECT column_name || ' ' || column_type AS s FROM (DESCRIBE SELECT * FROM "
        "{})))",
        Join(ours, ", "), ctx.columns.size(), TableSql(r.args[0])));
  } else if (t == "AggregateMatch") {
    auto qualified = [](const std::string& expr) {
      // "sum(db.table.col)" reads db.table; "sum(col)" reads the table under test.
      size_t open = expr.find('('), close = expr.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close < open) {
        return std::pair<std::string, std::string>{"", expr};
      }
      std::string inner = Trim(expr.substr(open + 1, close - open - 1));
      auto parts = Split(inner, '.');
      if (parts.size() < 3) return std::pair<std::string, std::string>{"", expr};
      auto [table, column] = SplitRef(inner);
      return std::pair<std::string, std::string>{
          table, expr.substr(0, open + 1) + SqlIdent(column) + expr.substr(close)};
    };
    auto [t1, e1] = qualified(r.args[0]);
    auto [t2, e2] = qualified(r.args[1]);
    judge(fmt::format("(SELECT {} FROM {}) / nullif((SELECT {} FROM {}), 0)", e1,
                      t1.empty() ? rel_where : TableSql(t1), e2,
                      t2.empty() ? rel_where : TableSql(t2)));
  } else if (t == "DatasetMatch") {
    // "k1->k2,k3": primary key columns matched to reference ones (same name when no arrow).
    std::vector<std::string> on, ours;
    for (const auto& pair : Split(r.args[1], ',')) {
      auto sides = Split(Trim(pair), '>');
      std::string left = Trim(sides[0]);
      if (!left.empty() && left.back() == '-') left.pop_back();
      std::string right = sides.size() > 1 ? Trim(sides[1]) : left;
      on.push_back(
          fmt::format("p.{} IS NOT DISTINCT FROM r.{}", SqlIdent(Trim(left)), SqlIdent(right)));
      ours.push_back(Trim(left));
    }
    // The other columns both tables have must be equal too.
    std::set<std::string> theirs;
    try {
      auto d = ctx.conn.Query("DESCRIBE SELECT * FROM " + TableSql(r.args[0]));
      for (size_t i = 0; i < d.row_count(); ++i) theirs.insert(d.GetOr(0, i));
    } catch (const Error&) {
      p.error = fmt::format("reference table {} does not exist", r.args[0]);
      return p;
    }
    std::vector<std::string> same;
    for (const auto& [n, ty] : ctx.columns) {
      if (std::find(ours.begin(), ours.end(), n) != ours.end() || !theirs.count(n)) continue;
      same.push_back(fmt::format("p.{0} IS NOT DISTINCT FROM r.{0}", SqlIdent(n)));
    }
    judge(fmt::format(
        "(SELECT coalesce(count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {} r WHERE {}{})) / "
        "nullif(count(*), 0), 1.0) FROM {} p)",
        TableSql(r.args[0]), Join(on, " AND "), same.empty() ? "" : " AND " + Join(same, " AND "),
        rel_where));
  } else if (t == "ColumnValues" || t == "ColumnLength" || t == "DataFreshness") {
    std::string pass =
        RowPass(r, ctx.history, [&](const std::string& name) { return TypeOf(ctx, name); });
    std::string scope = r.where.empty() ? "" : " AND " + WhereSql(r.where);
    std::string failing =
        ctx.settled.count(&r) ? "0" : fmt::format("count(*) FILTER (WHERE NOT {}{})", pass, scope);
    if (r.threshold) {
      // The share of rows that pass, against the threshold.
      auto tops = Operands(*r.threshold, r.text, ctx.history, nullptr);
      p.figures = {failing, "count(*)" + where};
      p.failing = "@@F0@@";
      std::string ratio = "coalesce(1 - @@F0@@ / nullif(@@F1@@, 0), 1.0)";
      p.observed = ratio;
      p.pass = tops ? CompareSql(ratio, r.threshold->op, *tops) : "true";
    } else {
      count_breaking(failing);
    }
  }
  if (p.no_history) p.pass = "true";
  return p;
}

// The text shown for an observed value.
std::string Observed(const Rule& r, const std::string& value) {
  if (value.empty()) return "NULL";
  const std::string& t = r.type;
  if (t == "IsComplete") return value + " null";
  if (t == "IsUnique" || t == "IsPrimaryKey") return value + " duplicate or null";
  if ((t == "ColumnValues" || t == "ColumnLength" || t == "DataFreshness") && !r.threshold) {
    return value + " outside";
  }
  return value;
}

std::optional<double> Number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace

std::string RefusedSql(engine::Connection& conn, const Rule& rule,
                       const engine::KnownRelation& known) {
  for (const auto& part : rule.parts) {
    std::string refused = RefusedSql(conn, part, known);
    if (!refused.empty()) return refused;
  }
  auto allowed = [&](const std::string& schema, const std::string& name) {
    return (schema.empty() && ToLower(name) == "primary") || known(schema, name);
  };
  const std::string hint = "only `primary` and catalog tables (db.table) may be read";
  if (rule.type == "CustomSql") {
    engine::ParsedSql parsed;
    try {
      parsed = engine::ParseSql(conn, PrimaryQuoted(rule));
    } catch (const Error& e) {
      return fmt::format("CustomSql is not SQL: {}", e.what());
    }
    if (parsed.statements != 1 || parsed.select.is_null()) {
      return "CustomSql must be exactly one SELECT statement";
    }
    std::string foreign = engine::ForeignRead(parsed.select, allowed);
    if (!foreign.empty()) return fmt::format("CustomSql reads {}: {}", foreign, hint);
  }
  if (!rule.where.empty()) {
    // One expression: as a WHERE clause of its own it may add nothing else to the query.
    const std::string refused = fmt::format("where \"{}\" is not one SQL expression", rule.where);
    engine::ParsedSql parsed;
    try {
      parsed = engine::ParseSql(conn, "SELECT * FROM \"primary\" WHERE " + WhereSql(rule.where));
    } catch (const Error& e) {
      return fmt::format("{}: {}", refused, e.what());
    }
    if (parsed.statements != 1 || parsed.select.is_null()) return refused;
    const auto& node = parsed.select["node"];
    auto empty = [&](const char* key) {
      return !node.contains(key) || node[key].is_null() || node[key].empty();
    };
    bool plain = node.value("type", "") == "SELECT_NODE" && empty("modifiers") &&
                 empty("group_expressions") && empty("group_sets") && empty("having") &&
                 empty("qualify") && empty("sample") && node["select_list"].size() == 1 &&
                 node["cte_map"].value("map", nlohmann::json::array()).empty();
    if (!plain) return refused;
    std::string foreign = engine::ForeignRead(node["where_clause"], allowed);
    if (!foreign.empty())
      return fmt::format("where \"{}\" reads {}: {}", rule.where, foreign, hint);
  }
  return "";
}

std::vector<meta::CheckResult> Evaluate(engine::Connection& conn, const std::string& relation,
                                        const std::string& table_name,
                                        const std::vector<Rule>& rules, const History& history,
                                        const TableFacts& facts) {
  std::vector<meta::CheckResult> out;
  if (rules.empty()) return out;
  Context ctx{conn, relation, {}, history, facts, {}};
  {
    auto d = conn.Query(fmt::format("DESCRIBE SELECT * FROM {}", relation));
    for (size_t i = 0; i < d.row_count(); ++i) {
      std::string name = d.GetOr(0, i);
      if (name == "_sluice_file") continue;
      ctx.columns.emplace_back(name, d.GetOr(1, i));
    }
  }
  // Every simple rule (composites' parts too) gets a plan; all figures go in one query.
  std::vector<const Rule*> simple;
  std::function<void(const Rule&)> collect = [&](const Rule& r) {
    if (r.type == "and" || r.type == "or") {
      for (const auto& p : r.parts) collect(p);
    } else {
      simple.push_back(&r);
    }
  };
  for (const auto& r : rules) collect(r);
  ctx.settled = SettledByRange(simple, ctx);
  std::vector<Plan> plans;
  std::vector<std::string> select;   // the outer query: per rule observed, pass, failing
  std::vector<std::string> figures;  // the inner query: every aggregate once
  std::vector<std::vector<std::string>> rule_figures;  // each rule's own, for a retry alone
  // Relations a rule's own SQL may name: the attached catalog tables (an unknown name that looks
  // like a file would make DuckDB read that file).
  engine::KnownRelation known = [&](const std::string& schema, const std::string& name) {
    return !schema.empty() &&
           conn.Query(fmt::format("SELECT count(*) FROM (SELECT schema_name, view_name AS n FROM "
                                  "duckdb_views() UNION ALL SELECT schema_name, table_name FROM "
                                  "duckdb_tables()) WHERE lower(schema_name) = lower({}) AND "
                                  "lower(n) = lower({})",
                                  SqlString(schema), SqlString(name)))
                   .GetInt(0, 0) > 0;
  };
  for (const Rule* r : simple) {
    std::string refused = RefusedSql(conn, *r, known);
    plans.push_back(refused.empty() ? Compile(*r, ctx) : Plan{});
    Plan& p = plans.back();
    if (!refused.empty()) p.error = refused;
    rule_figures.emplace_back();
    if (!p.error.empty()) continue;
    for (size_t k = 0; k < p.figures.size(); ++k) {
      std::string alias = fmt::format("f{}", figures.size());
      figures.push_back(p.figures[k] + " AS " + alias);
      rule_figures.back().push_back(figures.back());
      std::string mark = fmt::format("@@F{}@@", k);
      for (std::string* sql : {&p.observed, &p.pass, &p.failing}) {
        for (size_t at = sql->find(mark); at != std::string::npos; at = sql->find(mark)) {
          sql->replace(at, mark.size(), alias);
        }
      }
    }
    select.push_back(fmt::format("CAST({} AS VARCHAR)", p.observed));
    select.push_back(fmt::format("CAST({} AS BOOLEAN)", p.pass));
    select.push_back(p.failing.empty() ? "NULL::BIGINT" : p.failing);
  }
  // One scan: the inner query always aggregates (count(*)), so it yields exactly one row.
  auto query = [&](const std::vector<std::string>& outer, const std::vector<std::string>& inner) {
    std::vector<std::string> agg = {"count(*) AS _rows"};
    agg.insert(agg.end(), inner.begin(), inner.end());
    return fmt::format("SELECT {} FROM (SELECT {} FROM {}) _figures", Join(outer, ",\n  "),
                       Join(agg, ",\n  "), relation);
  };
  std::map<const Rule*, size_t> index;
  std::vector<std::string> values;  // observed, pass, failing per rule in `select` order
  if (!select.empty()) {
    try {
      auto res = conn.Query(query(select, figures));
      for (size_t c = 0; c < select.size(); ++c) values.push_back(res.GetOr(c, 0, ""));
    } catch (const Error& e) {
      // One rule's SQL (a CustomSql statement, a where predicate) broke the query: judge each
      // on its own so the others still get their outcome and the culprit its error.
      for (size_t i = 0, c = 0; i < simple.size(); ++i) {
        if (!plans[i].error.empty()) continue;
        try {
          auto res = conn.Query(query({select[c], select[c + 1], select[c + 2]}, rule_figures[i]));
          values.push_back(res.GetOr(0, 0, ""));
          values.push_back(res.GetOr(1, 0, ""));
          values.push_back(res.GetOr(2, 0, ""));
        } catch (const Error& each) {
          plans[i].run_error = each.what();
          values.insert(values.end(), {"", "", ""});
        }
        c += 3;
      }
    }
  }
  std::map<const Rule*, meta::CheckResult> results;
  for (size_t i = 0, c = 0; i < simple.size(); ++i) {
    const Rule& r = *simple[i];
    const Plan& p = plans[i];
    meta::CheckResult res;
    res.table = table_name;
    res.rule = r.text;
    res.on_fail = r.on_fail;
    if (!p.error.empty()) {
      res.outcome = "error";
      res.message = p.error;
    } else if (!p.run_error.empty()) {
      c += 3;
      res.outcome = "error";
      res.message = p.run_error;
    } else {
      std::string observed = values[c], pass = values[c + 1], failing = values[c + 2];
      c += 3;
      if (!failing.empty()) res.failing_rows = std::stoll(failing);
      res.observed = Observed(r, observed);
      res.value = Number(observed);
      res.outcome = pass == "true" ? "pass" : "fail";
      if (pass.empty() && observed.empty()) {
        res.outcome = "fail";
        res.message = "no value to judge (an empty table?)";
      }
      res.threshold = r.threshold ? r.threshold->text : r.condition ? r.condition->text : "";
      if (!p.note.empty()) res.message = p.note;
      if (res.message.empty() && res.failing_rows > 0) {
        res.message = fmt::format("{} row{} the rule", res.failing_rows,
                                  res.failing_rows == 1 ? " breaks" : "s break");
      }
      if (res.message.empty() && res.outcome == "fail") {
        res.message = r.type == "ColumnExists" ? fmt::format("column {} is missing", r.args[0])
                                               : "observed " + res.observed;
      }
    }
    results[&r] = res;
  }
  std::function<meta::CheckResult(const Rule&)> combine = [&](const Rule& r) {
    if (r.type != "and" && r.type != "or") return results.at(&r);
    meta::CheckResult res;
    res.table = table_name;
    res.rule = r.text;
    res.on_fail = r.on_fail;
    bool any_error = false, all = true, any = false;
    std::vector<std::string> observed;
    for (const auto& part : r.parts) {
      auto pr = combine(part);
      any_error = any_error || pr.outcome == "error";
      all = all && pr.outcome == "pass";
      any = any || pr.outcome == "pass";
      observed.push_back(pr.outcome + " (" + (pr.outcome == "error" ? pr.message : pr.observed) +
                         ")");
    }
    res.outcome = any_error ? "error" : (r.type == "and" ? all : any) ? "pass" : "fail";
    res.observed = Join(observed, "; ");
    if (res.outcome == "fail") res.message = "observed " + res.observed;
    return res;
  };
  for (const auto& r : rules) out.push_back(combine(r));
  return out;
}

std::vector<meta::CheckResult> Judge(
    engine::Connection& conn, const std::string& relation, const std::string& table_name,
    const std::vector<Rule>& rules, const History& history,
    const std::function<meta::CheckResult(const Rule&)>& set_aside) {
  std::vector<Rule> judged;
  for (const auto& r : rules) {
    if (r.on_fail != "quarantine") judged.push_back(r);
  }
  std::vector<meta::CheckResult> results;
  if (!relation.empty()) results = Evaluate(conn, relation, table_name, judged, history);
  for (const auto& r : rules) {
    if (r.on_fail == "quarantine") results.push_back(set_aside(r));
  }
  return results;
}

nlohmann::json FailingRowsJson(const meta::CheckResult& result) {
  return result.failing_rows < 0 ? nlohmann::json(nullptr) : nlohmann::json(result.failing_rows);
}

bool Failed(const meta::CheckResult& result) {
  return result.on_fail == "fail" && result.outcome != "pass";
}

void RequirePassing(const std::vector<meta::CheckResult>& results, const std::string& what) {
  std::vector<std::string> failed;
  for (const auto& c : results) {
    if (Failed(c)) failed.push_back(c.rule + ": " + c.message);
  }
  if (!failed.empty()) {
    FailWithCode(ErrorKind::kQuality, "quality.check_failed",
                 "{}: {} check{} failed, nothing was published:\n  {}", what, failed.size(),
                 failed.size() == 1 ? "" : "s", Join(failed, "\n  "));
  }
}

}  // namespace sluice::quality
