#include "catalog/extracted.h"

#include "common/process.h"

namespace sluice::catalog {

ExtractRecovery FinishExtractFiles(lake::Store& store, meta::ExtractState& state,
                                   const std::string& source, bool report_lost) {
  ExtractRecovery out;
  for (const auto& f : state.ExtractFiles(source)) {
    if (f.status == meta::ExtractFileStatus::kCommitted) {
      // A file already moved (a crash before DropExtractFile, or another process just now) is
      // not moved again.
      if (!store.Stat(f.landing_key) && !store.Move(f.staging_key, f.landing_key) &&
          !store.Stat(f.landing_key)) {
        out.lost.push_back(f.landing_key);
        if (!report_lost) continue;  // kept for `sluice extract` or the server to report
      } else {
        store.Delete(f.staging_key);
        ++out.landed;
      }
      state.DropExtractFile(f.staging_key);
    } else if (!OwnerAlive(f.owner)) {
      store.Delete(f.staging_key);
      state.DropExtractFile(f.staging_key);
      ++out.discarded;
    }
  }
  return out;
}

}  // namespace sluice::catalog
