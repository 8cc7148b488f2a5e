#pragma once
// lake::Watcher reports objects arriving under watched prefixes (inotify for a local lake;
// listing or event notifications for S3 later). Arrivals are hints for speed: a caller that must
// not miss a file also lists the prefix now and then (a watcher may drop events, e.g. on
// overflow or for a file that landed before its folder was watched).
#include <string>
#include <vector>

namespace sluice::lake {

struct Arrivals {
  std::vector<std::string> keys;  // whole objects (written and closed), sorted, unique
  bool new_folders = false;       // a folder appeared under a watched prefix: list it again
};

class Watcher {
 public:
  virtual ~Watcher() = default;

  // "" when arrivals are reported; otherwise why not (then Wait reports nothing and callers
  // find arrivals by listing). Any thread.
  virtual std::string Unavailable() const = 0;
  // Watches `prefix` and everything below it as it is now, creating the prefix if needed.
  // Idempotent: call it again after `new_folders` to watch those too. Failures to watch a
  // folder are skipped (its files are found by listing). Any thread.
  virtual void Watch(const std::string& prefix) = 0;
  // Waits up to `timeout_ms` for arrivals; nothing on timeout. One thread at a time.
  virtual Arrivals Wait(int timeout_ms) = 0;
  // Whether some writer still has the object open (a lister leaves it for its close event or a
  // later listing). Any thread.
  virtual bool BeingWritten(const std::string& key) const = 0;
};

}  // namespace sluice::lake
