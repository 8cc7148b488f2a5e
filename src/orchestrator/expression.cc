#include "orchestrator/expression.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::orchestrator {

using nlohmann::json;

struct Expression::Node {
  std::string op;  // or and not cmp-ops literal path
  json value;      // literal
  std::vector<std::string> path;
  // or/and: every operand of the chain (flat, so a long chain is not a deep tree); not: one;
  // comparisons: two.
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const Expression::Node>;

struct Token {
  std::string kind;  // num str name op ( ) end
  std::string text;
  size_t at = 0;
};

std::vector<Token> Lex(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      out.push_back({"num", s.substr(i, j - i), i});
      i = j;
    } else if (c == '\'' || c == '"') {
      size_t j = s.find(c, i + 1);
      if (j == std::string::npos) {
        FailWithCode(ErrorKind::kConfig, "config.bad_expression",
                     "column {}: the text starting here has no closing {}", i + 1, c);
      }
      out.push_back({"str", s.substr(i + 1, j - i - 1), i});
      i = j + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) {
        ++j;
      }
      out.push_back({"name", s.substr(i, j - i), i});
      i = j;
    } else if (c == '(' || c == ')') {
      out.push_back({std::string(1, c), std::string(1, c), i});
      ++i;
    } else {
      static const char* ops[] = {"==", "!=", "<=", ">=", "<", ">", "="};
      bool found = false;
      for (const char* op : ops) {
        if (s.compare(i, std::strlen(op), op) == 0) {
          out.push_back({"op", op, i});
          i += std::strlen(op);
          found = true;
          break;
        }
      }
      if (!found)
        FailWithCode(ErrorKind::kConfig, "config.bad_expression", "column {}: unexpected '{}'",
                     i + 1, c);
    }
  }
  out.push_back({"end", "", s.size()});
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  NodePtr Parse() {
    NodePtr n = Or();
    if (t_[i_].kind != "end") Expected("and, or, or the end");
    return n;
  }

 private:
  bool Word(const char* w) {
    if (t_[i_].kind == "name" && ToLower(t_[i_].text) == w) {
      ++i_;
      return true;
    }
    return false;
  }
  [[noreturn]] void Expected(const std::string& what) {
    const Token& t = t_[i_];
    FailWithCode(ErrorKind::kConfig, "config.bad_expression", "column {}: expected {}, found {}",
                 t.at + 1, what, t.kind == "end" ? "the end" : "'" + t.text + "'");
  }
  NodePtr Make(std::string op, std::vector<NodePtr> args) {
    auto n = std::make_shared<Expression::Node>();
    n->op = std::move(op);
    n->args = std::move(args);
    return n;
  }
  // Parentheses and `not` nest by recursion: bounded, so that no text overflows the stack when
  // parsing, evaluating or freeing the tree.
  static constexpr int kMaxDepth = 256;
  void Enter(const Token& at) {
    if (++depth_ > kMaxDepth) {
      FailWithCode(ErrorKind::kConfig, "config.bad_expression",
                   "column {}: nested more than {} levels deep", at.at + 1, kMaxDepth);
    }
  }
  NodePtr Chain(const char* word, NodePtr (Parser::*operand)()) {
    std::vector<NodePtr> args = {(this->*operand)()};
    while (Word(word)) args.push_back((this->*operand)());
    return args.size() == 1 ? args[0] : Make(word, std::move(args));
  }
  NodePtr Or() { return Chain("or", &Parser::And); }
  NodePtr And() { return Chain("and", &Parser::Not); }
  NodePtr Not() {
    const Token& at = t_[i_];
    if (Word("not")) {
      Enter(at);
      NodePtr n = Make("not", {Not()});
      --depth_;
      return n;
    }
    NodePtr l = Primary();
    if (t_[i_].kind == "op") {
      std::string op = t_[i_++].text;
      if (op == "=") op = "==";
      return Make(op, {l, Primary()});
    }
    return l;
  }
  NodePtr Primary() {
    const Token& t = t_[i_];
    auto n = std::make_shared<Expression::Node>();
    if (t.kind == "(") {
      Enter(t);
      ++i_;
      NodePtr inner = Or();
      if (t_[i_].kind != ")") Expected("')'");
      ++i_;
      --depth_;
      return inner;
    }
    if (t.kind == "num") {
      n->op = "literal";
      try {
        n->value = std::stod(t.text);
      } catch (const std::exception&) {
        Expected("a number");
      }
    } else if (t.kind == "str") {
      n->op = "literal";
      n->value = t.text;
    } else if (t.kind == "name") {
      std::string lower = ToLower(t.text);
      if (lower == "true" || lower == "false") {
        n->op = "literal";
        n->value = lower == "true";
      } else if (lower == "null") {
        n->op = "literal";
      } else if (lower == "and" || lower == "or" || lower == "not") {
        Expected("a value or a name");
      } else {
        n->op = "path";
        n->path = Split(t.text, '.');
      }
    } else {
      Expected("a value or a name such as steps.clean_orders.rows_out");
    }
    ++i_;
    return n;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

json Value(const Expression::Node& n, const json& scope) {
  if (n.op == "literal") return n.value;
  const json* at = &scope;
  for (const auto& part : n.path) {
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
  }
  return *at;
}

bool Truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  return false;
}

bool Eval(const Expression::Node& n, const json& scope) {
  if (n.op == "or") {
    return std::any_of(n.args.begin(), n.args.end(),
                       [&](const auto& a) { return Eval(*a, scope); });
  }
  if (n.op == "and") {
    return std::all_of(n.args.begin(), n.args.end(),
                       [&](const auto& a) { return Eval(*a, scope); });
  }
  if (n.op == "not") return !Eval(*n.args[0], scope);
  if (n.op == "literal" || n.op == "path") return Truthy(Value(n, scope));
  json l = Value(*n.args[0], scope), r = Value(*n.args[1], scope);
  int cmp = 0;
  if (l.is_number() && r.is_number()) {
    double a = l.get<double>(), b = r.get<double>();
    cmp = a < b ? -1 : a > b ? 1 : 0;
  } else if (l.is_string() && r.is_string()) {
    cmp = l.get<std::string>().compare(r.get<std::string>());
  } else if (n.op == "==" || n.op == "!=") {
    return (l == r) == (n.op == "==");
  } else {
    return false;  // ordering across types (or with null) is never true
  }
  if (n.op == "==") return cmp == 0;
  if (n.op == "!=") return cmp != 0;
  if (n.op == "<") return cmp < 0;
  if (n.op == "<=") return cmp <= 0;
  if (n.op == ">") return cmp > 0;
  return cmp >= 0;
}

}  // namespace

Expression Expression::Parse(const std::string& text) {
  Expression e;
  e.root_ = Parser(Lex(text)).Parse();
  return e;
}

bool Expression::Evaluate(const json& scope) const { return Eval(*root_, scope); }

}  // namespace sluice::orchestrator
