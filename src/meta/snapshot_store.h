#pragma once
// meta::SnapshotStore: the definitions runs ran (project/snapshot.h), content-addressed: each
// manifest is stored under the hex SHA-256 of its bytes, so a run's recorded hash names exactly
// what it ran and `sluice retry` can run it again.
//
// Contract, for every backend:
// - Each call takes effect whole or not at all.
// - PutSnapshot is idempotent: storing a hash already stored changes nothing (the bytes under a
//   hash never change) and is not an error; two processes storing one hash at once store it once.
// - GetSnapshot answers nullopt for a hash never stored; the manifest comes back byte for byte.
// - The store does not check that `hash` is the manifest's hash: the caller computes it.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <optional>
#include <string>

namespace sluice::meta {

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // Stores `manifest` under `hash` unless that hash is stored already.
  virtual void PutSnapshot(const std::string& hash, const std::string& manifest) = 0;
  // The manifest stored under `hash`.
  virtual std::optional<std::string> GetSnapshot(const std::string& hash) = 0;
};

}  // namespace sluice::meta
