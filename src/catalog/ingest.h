#pragma once
// Landing files: copies local files into landing/<source>/ without ever replacing a landed file.
// The same bytes landed twice for one source are recognised (by SHA-256) and skipped.
#include <string>
#include <vector>

#include "lake/store.h"
#include "meta/metastore.h"

namespace sluice::catalog {

struct IngestedFile {
  std::string path;     // as given (the local file)
  std::string key;      // where it landed, or the earlier landing it duplicates
  std::string outcome;  // landed | duplicate
};

// Each of `paths` is a file or a folder; a folder's files keep their path relative to it (so
// date=2026-01-01/x.csv lands as landing/<source>/date=2026-01-01/x.csv). Throws
// sluice::Error(kInput) when a different file already sits at a target key, before landing
// anything.
std::vector<IngestedFile> Ingest(const std::string& source, const std::vector<std::string>& paths,
                                 lake::Store& store, meta::LandingRegistry& metastore);

}  // namespace sluice::catalog
