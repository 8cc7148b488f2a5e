#include "orchestrator/expression.h"

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
  std::shared_ptr<const Node> left, right;
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
        Fail(ErrorKind::kConfig, "column {}: the text starting here has no closing {}", i + 1, c);
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
      if (!found) Fail(ErrorKind::kConfig, "column {}: unexpected '{}'", i + 1, c);
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
    Fail(ErrorKind::kConfig, "column {}: expected {}, found {}", t.at + 1, what,
         t.kind == "end" ? "the end" : "'" + t.text + "'");
  }
  NodePtr Binary(std::string op, NodePtr l, NodePtr r) {
    auto n = std::make_shared<Expression::Node>();
    n->op = std::move(op);
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }
  NodePtr Or() {
    NodePtr n = And();
    while (Word("or")) n = Binary("or", n, And());
    return n;
  }
  NodePtr And() {
    NodePtr n = Not();
    while (Word("and")) n = Binary("and", n, Not());
    return n;
  }
  NodePtr Not() {
    if (Word("not")) return Binary("not", Not(), nullptr);
    NodePtr l = Primary();
    if (t_[i_].kind == "op") {
      std::string op = t_[i_++].text;
      if (op == "=") op = "==";
      return Binary(op, l, Primary());
    }
    return l;
  }
  NodePtr Primary() {
    const Token& t = t_[i_];
    auto n = std::make_shared<Expression::Node>();
    if (t.kind == "(") {
      ++i_;
      NodePtr inner = Or();
      if (t_[i_].kind != ")") Expected("')'");
      ++i_;
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
  if (n.op == "or") return Eval(*n.left, scope) || Eval(*n.right, scope);
  if (n.op == "and") return Eval(*n.left, scope) && Eval(*n.right, scope);
  if (n.op == "not") return !Eval(*n.left, scope);
  if (n.op == "literal" || n.op == "path") return Truthy(Value(n, scope));
  json l = Value(*n.left, scope), r = Value(*n.right, scope);
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
