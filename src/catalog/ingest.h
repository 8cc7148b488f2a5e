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
// date=2026-01-01/x.csv lands as landing/<source>/date=2026-01-01/x.csv), and every key=value
// folder the given path itself names is a partition, as in Hive and Glue (`in/dt=1` and
// `in/dt=1/x.csv` both land as landing/<source>/dt=1/x.csv). Throws sluice::Error(kInput), before
// landing anything, when a different file already sits at a target key (input.already_landed),
// when a name holds a control character (input.control_character), or when a file would land in
// a shape the crawler quarantines: a malformed key=value folder (input.bad_partition), or
// partition keys other than those of bronze.<source> (or, before its first crawl, of the first
// file landed for it, or of the first file given): input.partition_mismatch.
std::vector<IngestedFile> Ingest(const std::string& source, const std::vector<std::string>& paths,
                                 lake::Store& store, meta::Metastore& metastore);

}  // namespace sluice::catalog
