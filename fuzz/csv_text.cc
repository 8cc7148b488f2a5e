// CSV text (catalog/csv_text.h): the first byte picks the declared encoding, the rest is a landed
// file; it is checked and converted as the crawler does, with a small line limit, and its lines
// are searched for invalid UTF-8 as the job does.
#include "catalog/csv_text.h"

#include <set>
#include <sstream>

#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using sluice::project::CsvEncoding;
  constexpr CsvEncoding kEncodings[] = {CsvEncoding::kUtf8,        CsvEncoding::kLatin1,
                                        CsvEncoding::kWindows1252, CsvEncoding::kUtf16,
                                        CsvEncoding::kUtf16Le,     CsvEncoding::kUtf16Be};
  CsvEncoding encoding = kEncodings[data[0] % 6];
  std::string text = sluice::fuzz::Text(data + 1, size - 1);
  sluice::fuzz::AcceptRejection([&] {
    std::istringstream in(text);
    std::ostringstream out;
    sluice::catalog::CheckText(in, encoding, 64, &out);
    std::istringstream again(text);
    sluice::catalog::LocateInvalidUtf8(again, {1, 2, 3, 5, 8, 13}, 64);
  });
  return 0;
}
