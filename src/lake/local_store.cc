#include "lake/local_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::lake {

namespace {
// Temporaries and Sluice's own folders start with '.' or '_' and are never listed.
bool IsHidden(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '_'; }

int64_t ModifiedMs(const fs::path& path) {
  std::error_code ec;
  auto t = fs::last_write_time(path, ec);
  if (ec) return 0;
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

void CopyToTemp(const fs::path& source, const fs::path& tmp) {
  std::error_code ec;
  fs::create_directories(tmp.parent_path(), ec);
  if (!fs::copy_file(source, tmp, fs::copy_options::overwrite_existing, ec)) {
    Fail(ErrorKind::kIo, "cannot copy {}: {}", source.string(), ec.message());
  }
}
}  // namespace

LocalStore::LocalStore(fs::path root) : root_(fs::absolute(root).lexically_normal()) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec)
    Fail(ErrorKind::kIo, "cannot create the lake folder {}: {}", root_.string(), ec.message());
}

fs::path LocalStore::PathOf(const std::string& key) const {
  if (key.empty() || key[0] == '/' || key.find("..") != std::string::npos) {
    Fail(ErrorKind::kInternal, "invalid lake key '{}'", key);
  }
  return root_ / key;
}

std::vector<ObjectInfo> LocalStore::List(const std::string& prefix, const std::string& start_after,
                                         size_t limit) const {
  // The prefix may end inside a name ("landing/ord"); walk from its folder and filter.
  std::string dir_part =
      prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/') + 1);
  fs::path dir = dir_part.empty() ? root_ : root_ / dir_part;
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) Fail(ErrorKind::kIo, "cannot list {}: {}", dir.string(), ec.message());
    std::string name = it->path().filename().string();
    if (IsHidden(name)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::string key = fs::relative(it->path(), root_).string();
    if (!StartsWith(key, prefix) || key <= start_after) continue;
    out.push_back({key, it->file_size(), ModifiedMs(it->path())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::optional<ObjectInfo> LocalStore::Stat(const std::string& key) const {
  fs::path path = PathOf(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return ObjectInfo{key, fs::file_size(path, ec), ModifiedMs(path)};
}

std::string LocalStore::Get(const std::string& key) const {
  if (!Stat(key)) Fail(ErrorKind::kIo, "no object {} in the lake", Uri(key));
  return ReadFile(PathOf(key));
}

void LocalStore::Put(const std::string& key, std::string_view data) {
  WriteFileAtomic(PathOf(key), data);
}

void LocalStore::PutFile(const std::string& key, const fs::path& source) {
  fs::path target = PathOf(key);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::rename(source, target, ec);
  if (!ec) return;
  // Another filesystem: copy next to the target, then rename.
  fs::path tmp = target.parent_path() / (".tmp-" + UniqueSuffix());
  CopyToTemp(source, tmp);
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    Fail(ErrorKind::kIo, "cannot write {}: {}", target.string(), ec.message());
  }
}

bool LocalStore::PutFileIfAbsent(const std::string& key, const fs::path& source) {
  fs::path target = PathOf(key);
  fs::path tmp = target.parent_path() / (".tmp-" + UniqueSuffix());
  CopyToTemp(source, tmp);
  // link(2) creates the name only if it does not exist: no window where two writers both win.
  int rc = ::link(tmp.c_str(), target.c_str());
  int err = errno;
  std::error_code ec;
  fs::remove(tmp, ec);
  if (rc == 0) return true;
  if (err == EEXIST) return false;
  Fail(ErrorKind::kIo, "cannot write {}: {}", target.string(), std::strerror(err));
}

void LocalStore::Delete(const std::string& key) {
  std::error_code ec;
  fs::remove(PathOf(key), ec);
  if (ec) Fail(ErrorKind::kIo, "cannot delete {}: {}", Uri(key), ec.message());
}

std::string LocalStore::ReadablePath(const std::string& key) const { return PathOf(key).string(); }

fs::path LocalStore::ScratchDir() const {
  fs::path dir = root_ / "_scratch" / UniqueSuffix();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Fail(ErrorKind::kIo, "cannot create {}: {}", dir.string(), ec.message());
  return dir;
}

std::string LocalStore::Uri(const std::string& key) const { return (root_ / key).string(); }

}  // namespace sluice::lake
