#pragma once
// meta::ExtractState: what extractions (HTTP APIs, databases) remember between runs — each
// source's cursor — and the files a run lands, committed together.
//
// A run's files reach landing in three steps, so that a killed run lands nothing and a committed
// one lands everything (src/extract/landing.h drives them):
//   1. StageExtractFiles records each file as `staged` under the run's owner, before its bytes
//      are written to a hidden staging key;
//   2. CommitExtract, one transaction, moves the cursor and marks the files `committed` (and
//      records them as landed, LandingRegistry's record);
//   3. the files are moved from staging to their landing keys, and DropExtractFile forgets each.
// After a crash, ExtractFiles shows what is left: committed files to move on, staged files of a
// dead owner to delete.
//
// Contract, for every backend:
// - Each call takes effect whole or not at all.
// - GetExtractState answers nullopt for a source never committed.
// - CommitExtract throws Error(kConflict, code extract.conflict) when the source's state is no
//   longer at `base_version` (another run committed first); nothing changes then. It throws
//   Error(kInternal) when a file of the commit was not staged for the source.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meta/status.h"

namespace sluice::meta {

// A source's extraction state: `state` is the extractor's JSON (its cursor), `version` counts
// commits (1 after the first).
struct ExtractCursor {
  std::string source;
  int64_t version = 0;
  std::string state;
  int64_t updated_ms = 0;
};

// One file of an extraction run: where its bytes wait (a hidden key) and where it lands.
struct ExtractFile {
  std::string source, staging_key, landing_key, sha256;
  uint64_t size = 0;
  std::string owner;  // the process that staged it (common/process.h)
  ExtractFileStatus status = ExtractFileStatus::kStaged;
  int64_t created_ms = 0;
};

struct ExtractCommit {
  std::string source;
  int64_t base_version = 0;               // the version the run read (0: none)
  std::string state;                      // the new state
  std::vector<std::string> staging_keys;  // the run's staged files, to commit
  int64_t committed_ms = 0;
};

class ExtractState {
 public:
  virtual ~ExtractState() = default;

  virtual std::optional<ExtractCursor> GetExtractState(const std::string& source) = 0;
  // Records `files` as staged (their status and created_ms are ignored: kStaged, now).
  virtual void StageExtractFiles(const std::vector<ExtractFile>& files) = 0;
  // Moves the cursor and commits the files (see above); returns the new version.
  virtual int64_t CommitExtract(const ExtractCommit& commit) = 0;
  // The files of `source` not yet forgotten ("" for every source), by staging key.
  virtual std::vector<ExtractFile> ExtractFiles(const std::string& source) = 0;
  // Forgets the file staged under `staging_key` (done with, or deleted). Idempotent.
  virtual void DropExtractFile(const std::string& staging_key) = 0;
};

}  // namespace sluice::meta
