#include "quality/rules.h"

#include <fmt/format.h>

#include <cctype>

#include "common/strings.h"

namespace sluice::quality {

namespace {

const std::vector<std::string> kRuleTypes = {"IsComplete", "IsUnique", "RowCount", "ColumnValues"};

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
    } else if (c == '"' || c == '\'') {
      size_t j = s.find(c, i + 1);
      if (j == std::string::npos) {
        error = {i, "unterminated quoted text"};
        return false;
      }
      out.push_back({Token::kString, s.substr(i + 1, j - i - 1), i});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() &&
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
        error = {i, "expected != "};
        return false;
      }
      out.push_back({Token::kOp, op == "==" ? "=" : op, i});
      i = j;
    } else if (c == '[' || c == ']' || c == ',') {
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

class Parser {
 public:
  Parser(std::vector<Token> tokens, ParseError& error) : t_(std::move(tokens)), error_(error) {}

  std::optional<Rule> Run(const std::string& text) {
    Rule rule;
    rule.text = Trim(text);
    const Token& head = t_[0];
    if (head.kind != Token::kWord) return Err(head, "expected a rule type such as IsComplete");
    auto known = std::find(kRuleTypes.begin(), kRuleTypes.end(), head.text);
    if (known == kRuleTypes.end()) {
      std::string near = Nearest(head.text, kRuleTypes);
      return Err(head, fmt::format("unknown rule type '{}'{}", head.text,
                                   near.empty() ? "; expected one of " + Join(kRuleTypes, ", ")
                                                : fmt::format(" (did you mean '{}'?)", near)));
    }
    rule.type = head.text;
    pos_ = 1;
    if (rule.type != "RowCount") {
      if (Peek().kind != Token::kString) return Err(Peek(), "expected a quoted column name");
      rule.column = Next().text;
    }
    if (rule.type == "RowCount" || rule.type == "ColumnValues") {
      if (!Condition(rule)) return std::nullopt;
    }
    if (Peek().kind != Token::kEnd) return Err(Peek(), "unexpected '" + Peek().text + "'");
    return rule;
  }

 private:
  const Token& Peek() { return t_[pos_]; }
  const Token& Next() { return t_[pos_++]; }
  std::nullopt_t Err(const Token& at, std::string message) {
    error_ = {at.offset, std::move(message)};
    return std::nullopt;
  }

  std::optional<std::string> Literal() {
    const Token& t = Next();
    if (t.kind == Token::kNumber) return t.text;
    if (t.kind == Token::kString) return SqlString(t.text);
    Err(t, "expected a number or a quoted value");
    return std::nullopt;
  }

  bool Condition(Rule& rule) {
    const Token& t = Peek();
    if (t.kind == Token::kOp) {
      rule.op = Next().text;
      auto v = Literal();
      if (!v) return false;
      rule.values = {*v};
      return true;
    }
    if (t.kind == Token::kWord && ToLower(t.text) == "between") {
      Next();
      rule.op = "between";
      auto lo = Literal();
      if (!lo) return false;
      if (Peek().kind != Token::kWord || ToLower(Peek().text) != "and") {
        Err(Peek(), "expected 'and' in 'between A and B'");
        return false;
      }
      Next();
      auto hi = Literal();
      if (!hi) return false;
      rule.values = {*lo, *hi};
      return true;
    }
    if (t.kind == Token::kWord && ToLower(t.text) == "in" && rule.type == "ColumnValues") {
      Next();
      rule.op = "in";
      if (Next().text != "[") {
        Err(t_[pos_ - 1], "expected '[' to start the list of values");
        return false;
      }
      while (true) {
        auto v = Literal();
        if (!v) return false;
        rule.values.push_back(*v);
        const Token& sep = Next();
        if (sep.text == "]") return true;
        if (sep.text != ",") {
          Err(sep, "expected ',' or ']' in the list of values");
          return false;
        }
      }
    }
    Err(t, rule.type == "RowCount" ? "expected a comparison such as '> 0' or 'between 1 and 10'"
                                   : "expected 'between A and B', 'in [...]' or a comparison");
    return false;
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  ParseError& error_;
};

std::string Compare(const std::string& lhs, const Rule& rule) {
  if (rule.op == "between") {
    return fmt::format("{} BETWEEN {} AND {}", lhs, rule.values[0], rule.values[1]);
  }
  if (rule.op == "in") return fmt::format("{} IN ({})", lhs, Join(rule.values, ", "));
  return fmt::format("{} {} {}", lhs, rule.op == "!=" ? "<>" : rule.op, rule.values[0]);
}

}  // namespace

std::string Rule::PassSql() const {
  std::string col = SqlIdent(column);
  if (type == "IsComplete") return col + " IS NOT NULL";
  if (type == "IsUnique")
    return fmt::format("{} IS NULL OR count(*) OVER (PARTITION BY {}) = 1", col, col);
  if (type == "ColumnValues") return fmt::format("coalesce({}, true)", Compare(col, *this));
  return "true";
}

std::optional<Rule> Parse(const std::string& text, ParseError& error) {
  std::vector<Token> tokens;
  if (!Tokenize(text, tokens, error)) return std::nullopt;
  return Parser(std::move(tokens), error).Run(text);
}

std::vector<meta::CheckResult> Evaluate(engine::Connection& conn, const std::string& relation,
                                        const std::string& table_name,
                                        const std::vector<Rule>& rules) {
  std::vector<meta::CheckResult> out;
  if (rules.empty()) return out;
  // One aggregate query for every rule: each rule contributes the figure it judges by.
  std::vector<std::string> figures;
  for (const auto& r : rules) {
    std::string col = SqlIdent(r.column);
    if (r.type == "RowCount") {
      figures.push_back("count(*)");
    } else if (r.type == "IsComplete") {
      figures.push_back(fmt::format("count(*) - count({})", col));
    } else if (r.type == "IsUnique") {
      figures.push_back(fmt::format("count({}) - count(DISTINCT {})", col, col));
    } else {
      figures.push_back(fmt::format("count(*) FILTER (WHERE NOT ({}))", Compare(col, r)));
    }
  }
  auto result = conn.Query(fmt::format("SELECT {} FROM {}", Join(figures, ", "), relation));
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    meta::CheckResult c;
    c.table = table_name;
    c.rule = r.text;
    c.on_fail = r.on_fail;
    int64_t figure = result.GetInt(i, 0);
    if (r.type == "RowCount") {
      c.observed = std::to_string(figure);
      auto check = conn.Query(fmt::format("SELECT {}", Compare(std::to_string(figure), r)));
      c.outcome = check.GetOr(0, 0) == "true" ? "pass" : "fail";
      c.message = fmt::format("row count is {}", figure);
    } else {
      c.failing_rows = figure;
      c.outcome = figure == 0 ? "pass" : "fail";
      if (r.type == "IsComplete") {
        c.observed = fmt::format("{} null", figure);
      } else if (r.type == "IsUnique") {
        c.observed = fmt::format("{} duplicate", figure);
      } else {
        c.observed = fmt::format("{} outside", figure);
      }
      c.message = fmt::format("{} row{} the rule", figure, figure == 1 ? " breaks" : "s break");
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace sluice::quality
