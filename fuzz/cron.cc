// Cron schedules (orchestrator/cron.h): the expression on the first line, an optional time zone
// on the second; a parsed schedule is asked for its next fire times.
#include "orchestrator/cron.h"

#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = sluice::fuzz::Text(data, size);
  size_t newline = text.find('\n');
  std::string expression = text.substr(0, newline);
  std::string zone = newline == std::string::npos ? "UTC" : text.substr(newline + 1);
  sluice::fuzz::AcceptRejection([&] {
    auto cron = sluice::orchestrator::Cron::Parse(expression, zone);
    const int64_t jan_2026 = 1767225600000;
    cron.Next(jan_2026);
    cron.Between(jan_2026, jan_2026 + 3LL * 86400000, 100);
  });
  return 0;
}
