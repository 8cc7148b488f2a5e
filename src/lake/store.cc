#include "lake/store.h"

#include <algorithm>

#include "common/error.h"

namespace sluice::lake {

Fetched::Fetched(std::map<std::string, std::string> paths, std::vector<std::string> folders,
                 std::shared_ptr<const void> pin)
    : paths_(std::move(paths)), folders_(std::move(folders)) {
  for (const auto& [key, path] : paths_) keys_[path] = key;
  if (pin) pins_.push_back(std::move(pin));
}

const std::string& Fetched::Path(const std::string& key) const {
  auto it = paths_.find(key);
  if (it == paths_.end()) Fail(ErrorKind::kInternal, "lake object {} was not fetched", key);
  return it->second;
}

std::vector<std::string> Fetched::Paths(const std::vector<std::string>& keys) const {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(Path(k));
  return out;
}

std::optional<std::string> Fetched::KeyOf(const std::string& path) const {
  auto it = keys_.find(path);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void Fetched::Add(Fetched other) {
  paths_.merge(other.paths_);
  keys_.merge(other.keys_);
  for (auto& f : other.folders_) {
    if (std::find(folders_.begin(), folders_.end(), f) == folders_.end()) folders_.push_back(f);
  }
  for (auto& p : other.pins_) pins_.push_back(std::move(p));
}

void Fetched::Substitute(const std::string& key, const std::string& path, const std::string& folder,
                         std::shared_ptr<const void> pin) {
  keys_.erase(Path(key));
  if (pin) pins_.push_back(std::move(pin));
  paths_[key] = path;
  keys_[path] = key;
  if (std::find(folders_.begin(), folders_.end(), folder) == folders_.end()) {
    folders_.push_back(folder);
  }
}

std::vector<ObjectInfo> ListAll(const Store& store, const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string cursor;
  do {
    ListPage page = store.List(prefix, cursor);
    for (auto& o : page.objects) out.push_back(std::move(o));
    cursor = std::move(page.next);
  } while (!cursor.empty());
  return out;
}

}  // namespace sluice::lake
