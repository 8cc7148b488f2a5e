#pragma once
// The last part of every extraction run, whatever it pulled from: its files reach landing/ with
// the source's new state in one commit (meta/extract_state.h), or not at all.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/files.h"
#include "lake/store.h"
#include "meta/metastore.h"

namespace sluice::extract {

// What a run pulled, ready to land.
struct Pulled {
  std::vector<fs::path> files;  // local files, durable (SyncFiles), landed in this order
  std::string extension;        // of the landed names: "jsonl", "parquet"
  std::string state;            // the source's new state, committed with the files
  // Lake objects the new state refers to (a key set), outside landing: written before the
  // commit, removed again when it fails. Pairs of lake key and local file.
  std::vector<std::pair<std::string, fs::path>> state_files;
  // Lake objects the new state no longer refers to: removed after the commit (best effort; one
  // left behind is harmless).
  std::vector<std::string> obsolete;
  // Commit the state even when no file lands (a full refresh that found no row resets the
  // cursor).
  bool commit_state = false;
};

struct Landed {
  std::vector<std::string> keys;  // the landing keys, in the order of Pulled::files
  // Why committed files wait for the next command to move them ("" they are landed).
  std::string moving_later;
};

// Flushes each file to disk (fdatasync): a commit may only name files that survive a crash.
// Throws Error(kIo) naming the file.
void SyncFiles(const std::vector<fs::path>& files);

// Lands `pulled` (any number of files; none commits the state alone) for `source`: stages each file
// under the run's hidden key, commits them with the new state at `base_version`, then moves them to
// landing/<source>/extracted_at=<today>/<source>-<run_tag>-NNNNN.<extension>. Throws what the lake
// and the metastore throw, kConflict (extract.conflict) when another run committed first, and
// kInterrupted when the user interrupts before the commit; nothing of the run stays in the lake
// then. After the commit it throws only kInterrupted: a failed move is reported in
// Landed::moving_later and finished by the next command (catalog::FinishExtractFiles).
Landed Land(lake::Store& store, meta::Metastore& metastore, const std::string& source,
            const std::string& run_tag, const Pulled& pulled, int64_t base_version);

}  // namespace sluice::extract
