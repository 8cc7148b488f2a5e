// What an HTTP API hands extraction (extract/http_pull.h): answers parsed into records, Link and
// Retry-After headers, next-page links, and cursor values compared and lagged.
#include <nlohmann/json.hpp>

#include "extract/http_pull.h"
#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::extract;
  const std::string text = sluice::fuzz::Text(data, size);
  (void)LinkWithRel(text, "next");
  (void)RetryAfterMs(text, 1'700'000'000'000);
  (void)ResolveSameOrigin("http://127.0.0.1:8080/api/items?page=1", text);
  sluice::fuzz::AcceptRejection([&] {
    for (const char* path : {"", "data", "data.items", "0"}) {
      sluice::fuzz::AcceptRejection([&] {
        auto records = ParseRecords("http://127.0.0.1/x", text, path);
        const json* last = nullptr;
        for (const auto& r : records) {
          (void)r.dump();
          const json* v = JsonAt(r, "updated_at");
          if (!v) continue;
          sluice::fuzz::AcceptRejection([&] {
            (void)LaggedCursor(*v, 3600);
            if (last) (void)CompareCursor(*last, *v);
          });
          last = v;
        }
      });
    }
  });
  return 0;
}
