#pragma once
// Arrivals in a local lake through inotify: a file counts when it is closed after writing or
// moved in, or created whole (a link or rename: no writer holds it open).
#include <map>
#include <mutex>

#include "common/files.h"
#include "lake/watcher.h"

namespace sluice::lake {

class LocalWatcher : public Watcher {
 public:
  explicit LocalWatcher(fs::path root);
  ~LocalWatcher() override;
  LocalWatcher(const LocalWatcher&) = delete;
  LocalWatcher& operator=(const LocalWatcher&) = delete;

  std::string Unavailable() const override { return unavailable_; }
  void Watch(const std::string& prefix) override;
  Arrivals Wait(int timeout_ms) override;
  bool BeingWritten(const std::string& key) const override;

 private:
  fs::path root_;
  int fd_ = -1;
  std::string unavailable_;
  std::mutex mu_;
  std::map<int, std::string> folders_;  // watch descriptor -> folder key ("landing/s/p=1/")
};

}  // namespace sluice::lake
