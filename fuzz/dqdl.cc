// DQDL rule sets (quality/rules.h): parsing, and the SQL a row-level rule compiles to.
#include "fuzz/fuzz.h"
#include "quality/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::AcceptRejection([&] {
    sluice::quality::ParseError error;
    auto rules = sluice::quality::ParseRuleSet(sluice::fuzz::Text(data, size), error);
    if (!rules) return;
    for (const auto& rule : *rules) {
      if (rule.row_level() && !rule.dynamic()) rule.PassSql();
    }
  });
  return 0;
}
