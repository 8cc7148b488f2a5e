#pragma once
// lake::Store is the only door to the lake's bytes (as leveldb::Env is to the OS). Keys are
// '/'-separated names relative to the lake root, e.g. "landing/orders/2026-01-01.csv"; the zone
// layout (which prefix holds what) lives in lake/zones.h.
//
// For every backend and every method:
// - Failures of the medium (disk, network) throw sluice::Error(kIo) naming the key. A key that
//   would leave the lake ("..", a leading '/', empty) is Error(kInternal): callers build keys.
// - A missing object is an answer, not an error, where the method has one (nullopt, false).
// - Writes are atomic: a reader sees the old object or the whole new one, never a part.
// - All methods may be called from several threads at once.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"
#include "lake/watcher.h"

namespace sluice::lake {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t modified_ms = 0;
};

// One page of a listing; `next` is the cursor of the following page, empty after the last.
struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next;
};

// The most keys one List call answers (S3's page size).
inline constexpr size_t kMaxListPage = 1000;

// Local copies of some objects, for readers that need a file name (DuckDB). While the handle
// lives, each path stays valid and its bytes unchanged. Moving the handle keeps the copies;
// const methods may be called from several threads at once.
class Fetched {
 public:
  Fetched() = default;
  // For backends: `paths` maps each key to its local path; `folders` are the local folders the
  // paths lie under; `pin` keeps the copies alive (a cache lease), nothing for a local lake.
  Fetched(std::map<std::string, std::string> paths, std::vector<std::string> folders,
          std::shared_ptr<const void> pin = nullptr);
  Fetched(Fetched&&) = default;
  Fetched& operator=(Fetched&&) = default;
  Fetched(const Fetched&) = delete;
  Fetched& operator=(const Fetched&) = delete;

  // The local path of a fetched key; Error(kInternal) for a key that was not fetched.
  const std::string& Path(const std::string& key) const;
  std::vector<std::string> Paths(const std::vector<std::string>& keys) const;
  // The key a local path (as a reader reports it) stands for, or nullopt.
  std::optional<std::string> KeyOf(const std::string& path) const;
  // The local folders holding the copies (what a sandboxed reader must be allowed to read).
  const std::vector<std::string>& Folders() const { return folders_; }
  // Takes over `other`'s copies: both sets stay valid while this handle lives.
  void Add(Fetched other);
  // Reads of the fetched `key` go to `path`, a file under the local `folder` (a repaired copy of
  // the object), from now on; KeyOf maps `path` back to `key`. The earlier copy stays pinned, and
  // so does `pin` (what keeps `path` alive, if anything). Error(kInternal) for a key that was not
  // fetched.
  void Substitute(const std::string& key, const std::string& path, const std::string& folder,
                  std::shared_ptr<const void> pin = nullptr);

 private:
  std::map<std::string, std::string> paths_;  // key -> path
  std::map<std::string, std::string> keys_;   // path -> key
  std::vector<std::string> folders_;
  std::vector<std::shared_ptr<const void>> pins_;
};

class Store {
 public:
  virtual ~Store() = default;

  // Objects whose key starts with `prefix`, in byte order of the key, after `cursor` ("" for
  // the first page), at most `limit` (1 to kMaxListPage) of them. Only whole objects: never a
  // temporary or a staging file. An absent prefix is an empty page.
  virtual ListPage List(const std::string& prefix, const std::string& cursor = "",
                        size_t limit = kMaxListPage) const = 0;
  // The object's size and time, or nullopt when there is none.
  virtual std::optional<ObjectInfo> Stat(const std::string& key) const = 0;
  // The object's bytes, or nullopt when there is none.
  virtual std::optional<std::string> Get(const std::string& key) const = 0;
  // Writes `data` as `key`, replacing any object there.
  virtual void Put(const std::string& key, std::string_view data) = 0;
  // Publishes the local file `source` as `key`, replacing any object there. `source` is best a
  // file under ScratchDir (then publishing is a rename and `source` is gone afterwards);
  // otherwise it is copied and left in place.
  virtual void PutFile(const std::string& key, const fs::path& source) = 0;
  // Copies the local file `source` to `key` unless an object is already there (a conflict):
  // true when it wrote, false when it did not. Of racing writers exactly one wins.
  [[nodiscard]] virtual bool PutFileIfAbsent(const std::string& key, const fs::path& source) = 0;
  // Moves the object `from` to `to`, replacing any object there; false when `from` is missing.
  virtual bool Move(const std::string& from, const std::string& to) = 0;
  // Removes the object. Idempotent: a missing object is no error.
  virtual void Delete(const std::string& key) = 0;

  // Local copies of `keys` for DuckDB (see Fetched). A local lake hands out its files
  // themselves, copying nothing. A key with no object gets a path where no file is, so that the
  // reader reports the missing file in its own words.
  virtual Fetched Fetch(const std::vector<std::string>& keys) const = 0;

  // The staging area for files DuckDB writes (a job's output) before PutFile publishes them: a
  // fresh local folder of this process, never listed, on the lake's filesystem when the lake is
  // local (so publishing is a rename). The caller removes it when done; RemoveAbandonedScratch
  // removes it after the process died.
  virtual fs::path ScratchDir() const = 0;
  // Removes the scratch folders of processes of this host that are gone (a kill -9 leaves its
  // batch behind, maybe hundreds of MB); returns how many. Folders of live processes, and of
  // other hosts, stay. Best effort: a folder that cannot be removed stays for the next call.
  virtual size_t RemoveAbandonedScratch() = 0;
  // A watcher of arrivals in this lake (see lake/watcher.h).
  virtual std::unique_ptr<Watcher> NewWatcher() const = 0;
  // The URI users see: /abs/path/lake/KEY or s3://bucket/prefix/KEY.
  virtual std::string Uri(const std::string& key) const = 0;
};

// Every object under `prefix`, page after page.
std::vector<ObjectInfo> ListAll(const Store& store, const std::string& prefix);

}  // namespace sluice::lake
