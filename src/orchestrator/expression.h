#pragma once
// The conditions of `choice` steps: comparisons of a run's parameters and earlier steps'
// figures, joined with and/or/not, e.g.
//   steps.clean_orders.rows_quarantined > 100 and params.region == 'eu'
// Names are dotted paths into the scope (params.*, steps.<id>.*, item, error.*, run.*); a path
// that leads nowhere is null. Numbers compare as numbers, text as text; a bare path is true
// when it is true, a non-zero number or non-empty text.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace sluice::orchestrator {

class Expression {
 public:
  // Throws sluice::Error(kConfig) naming the column and what was expected.
  static Expression Parse(const std::string& text);
  bool Evaluate(const nlohmann::json& scope) const;
  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace sluice::orchestrator
