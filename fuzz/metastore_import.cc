// A metastore export (meta/transfer.h) imported into an empty SQLite metastore. Beyond not
// crashing: an import that is refused leaves the metastore empty (it is one transaction).
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/files.h"
#include "fuzz/fuzz.h"
#include "meta/transfer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sluice::fs::path dir = [] {
    auto d = sluice::fs::temp_directory_path() / ("sluice-fuzz-import-" + std::to_string(getpid()));
    sluice::fs::create_directories(d);
    return d;
  }();
  const std::string uri = "sqlite:" + (dir / "m.db").string();
  std::error_code ec;
  for (const char* f : {"m.db", "m.db-wal", "m.db-shm"}) sluice::fs::remove(dir / f, ec);
  std::istringstream in(sluice::fuzz::Text(data, size));
  bool refused = true;
  sluice::fuzz::AcceptRejection([&] {
    sluice::meta::Import(uri, in);
    refused = false;
  });
  if (refused) {
    std::ostringstream out;
    for (const auto& [table, rows] : sluice::meta::Export(uri, out).rows) {
      if (rows != 0) std::abort();  // a refused import left rows behind
    }
  }
  return 0;
}
