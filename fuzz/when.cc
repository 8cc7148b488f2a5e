// The `when` conditions of choice steps (orchestrator/expression.h): parsing and evaluating
// over a scope holding numbers, text, null and nested objects.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz.h"
#include "orchestrator/expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::json scope = {
      {"params", {{"region", "eu"}, {"limit", 10}, {"empty", ""}}},
      {"steps", {{"clean", {{"rows_out", 12}, {"rows_quarantined", 0}, {"ok", true}}}}},
      {"item", nullptr},
      {"run", {{"id", 1}, {"workflow", "daily"}}}};
  sluice::fuzz::AcceptRejection([&] {
    sluice::orchestrator::Expression::Parse(sluice::fuzz::Text(data, size)).Evaluate(scope);
  });
  return 0;
}
