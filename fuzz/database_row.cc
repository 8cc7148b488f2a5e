// A row of a database source as PostgreSQL's COPY ... (FORMAT csv) sends it, parsed for the
// cursor and key values of the last row (extract/database.h). Beyond not crashing: a row parsed
// and written again (every value quoted) parses to the same values.
#include <cstdlib>

#include "extract/database.h"
#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = sluice::fuzz::Text(data, size);
  sluice::fuzz::AcceptRejection([&] {
    auto fields = sluice::extract::ParseCsvRow(text);
    std::string again;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) again += ',';
      if (!fields[i]) continue;
      again += '"';
      for (char c : *fields[i]) again += c == '"' ? std::string("\"\"") : std::string(1, c);
      again += '"';
    }
    again += '\n';
    if (sluice::extract::ParseCsvRow(again) != fields) std::abort();
  });
  return 0;
}
