#pragma once
// `sluice extract SOURCE` and the `extract:` workflow step: pulls what a source's extractor
// (`extract:` in sources/NAME.yaml) has that is new, and lands it in landing/<source>/ exactly
// once. The files and the source's new cursor are committed together (meta/extract_state.h): a
// killed or failed run lands nothing and moves no cursor, so running it again fetches the same
// range and lands it once.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "transform/workspace.h"

namespace sluice::extract {

struct ExtractOptions {
  // Start over from the source's initial_value (or everything), as if it had never run; the
  // records land again.
  bool full_refresh = false;
  std::string trigger = "manual";
  std::function<void(int64_t run_id)> on_start;
  // Called after each page with the records landed so far.
  std::function<void(int64_t records)> progress;
};

struct ExtractReport {
  std::string source;
  int64_t run_id = 0;
  int64_t requests = 0, pages = 0, rows = 0, files = 0;
  int64_t deletes = 0;  // delete records landed (a database source with `deletes: detect`)
  std::optional<nlohmann::json> cursor;  // the cursor after the run (null: not incremental)
  std::vector<std::string> keys;         // the landed files
  int64_t duration_ms = 0;
  std::string message;  // one line for people
};

// Extracts `source` (a source of ws.project with `extract:`), recorded as a run of kind
// `extract`. Throws sluice::Error: kConfig (config.unknown_target: no such source;
// config.not_extracted: it has no extract:; config.env_unset: a setting names an unset
// variable), what extract::Pull throws, kConflict (extract.conflict) when another run of the
// source committed first, and the lake's and metastore's failures. Nothing lands then.
ExtractReport ExtractSource(transform::Workspace& ws, const std::string& source,
                            const ExtractOptions& options);

}  // namespace sluice::extract
