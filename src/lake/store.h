#pragma once
// lake::Store is the only door to the lake's bytes (as leveldb::Env is to the OS). Keys are
// '/'-separated paths relative to the lake root, e.g. "landing/orders/2026-01-01.csv".
//
// Contract, for every backend:
// - Put and PutFile are atomic: a reader sees the old object or the whole new one, never a part.
// - PutFileIfAbsent never replaces an existing object; it reports whether it wrote.
// - List returns keys in byte order, only whole objects (never temporaries), starting after
//   `start_after`, at most `limit` of them; call again with the last key to go on.
// - Delete is idempotent. A missing object is not an error for Delete, and is nullopt for Stat.
// - All calls are safe to make from several threads at once.
// Failures throw sluice::Error(kIo) naming the key.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"

namespace sluice::lake {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t modified_ms = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual std::vector<ObjectInfo> List(const std::string& prefix,
                                       const std::string& start_after = "",
                                       size_t limit = std::numeric_limits<size_t>::max()) const = 0;
  virtual std::optional<ObjectInfo> Stat(const std::string& key) const = 0;
  virtual std::string Get(const std::string& key) const = 0;
  virtual void Put(const std::string& key, std::string_view data) = 0;
  // Moves (or copies) the local file `source` to `key`, replacing any object there.
  virtual void PutFile(const std::string& key, const fs::path& source) = 0;
  // Copies `source` to `key` unless an object is already there; true when it wrote.
  virtual bool PutFileIfAbsent(const std::string& key, const fs::path& source) = 0;
  virtual void Delete(const std::string& key) = 0;

  // A local path where DuckDB can read the object's bytes (the file itself for a local lake).
  virtual std::string ReadablePath(const std::string& key) const = 0;
  // A local folder for a run's output before it is committed with PutFile. Same filesystem as
  // the lake when the lake is local, so commit is a rename. It belongs to this process: the
  // caller removes it when done, and RemoveAbandonedScratch removes it after the process died.
  virtual fs::path ScratchDir() const = 0;
  // Removes the scratch folders of processes of this host that are gone (a kill -9 leaves its
  // batch behind, maybe hundreds of MB); returns how many. Folders of live processes, and of
  // other hosts, stay. Best effort: a folder that cannot be removed stays for the next call.
  virtual size_t RemoveAbandonedScratch() = 0;
  // The URI users see: /abs/path/lake/KEY or s3://bucket/prefix/KEY.
  virtual std::string Uri(const std::string& key) const = 0;
};

// Zones of the lake, as key prefixes.
inline constexpr const char* kLanding = "landing/";
inline constexpr const char* kQuarantineZone = "quarantine/";

}  // namespace sluice::lake
