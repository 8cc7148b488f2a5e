#pragma once
#include "lake/store.h"

namespace sluice::lake {

// A lake in a local folder. Writes go to a temporary file in the target folder and are renamed
// into place (atomic on POSIX); PutFileIfAbsent uses link(2), which fails if the name exists.
class LocalStore : public Store {
 public:
  explicit LocalStore(fs::path root);

  ListPage List(const std::string& prefix, const std::string& cursor, size_t limit) const override;
  std::optional<ObjectInfo> Stat(const std::string& key) const override;
  std::optional<std::string> Get(const std::string& key) const override;
  void Put(const std::string& key, std::string_view data) override;
  void PutFile(const std::string& key, const fs::path& source) override;
  bool PutFileIfAbsent(const std::string& key, const fs::path& source) override;
  bool Move(const std::string& from, const std::string& to) override;
  void Delete(const std::string& key) override;
  Fetched Fetch(const std::vector<std::string>& keys) const override;
  fs::path ScratchDir() const override;
  size_t RemoveAbandonedScratch() override;
  std::unique_ptr<Watcher> NewWatcher() const override;
  std::string Uri(const std::string& key) const override;

 private:
  fs::path PathOf(const std::string& key) const;
  fs::path root_;
};

}  // namespace sluice::lake
