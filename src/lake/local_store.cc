#include "lake/local_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/process.h"
#include "common/strings.h"
#include "lake/local_watcher.h"
#include "lake/zones.h"

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

// Copies `source` to `tmp` (a hidden name beside the target). On failure, such as a full disk,
// no part of the copy is left behind, and the error says what the system said
// (std::filesystem::copy_file reports a short copy as "Input/output error").
void CopyToTemp(const fs::path& source, const fs::path& tmp, const fs::path& target) {
  std::error_code ec;
  fs::create_directories(tmp.parent_path(), ec);
  int err = ec.value();
  if (!err) {
    int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err = out < 0 ? errno : 0;
    std::vector<char> buffer(1 << 20);
    while (!err) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n <= 0) {
        err = n < 0 ? errno : 0;
        break;
      }
      for (ssize_t done = 0; done < n && !err;) {
        ssize_t w = ::write(out, buffer.data() + done, static_cast<size_t>(n - done));
        if (w < 0) err = errno;
        done += w;
      }
    }
    if (out >= 0 && ::close(out) != 0 && !err) err = errno;
    if (in >= 0) ::close(in);
  }
  if (!err) return;
  fs::remove(tmp, ec);
  Fail(ErrorKind::kIo, "cannot copy {} to {}: {}", source.string(), target.string(),
       std::strerror(err));
}
}  // namespace

LocalStore::LocalStore(fs::path root) : root_(fs::absolute(root).lexically_normal()) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec)
    Fail(ErrorKind::kIo, "cannot create the lake folder {}: {}", root_.string(), ec.message());
}

fs::path LocalStore::PathOf(const std::string& key) const {
  // `..` as a whole segment would leave the lake; inside a name (a..b.csv) it is just a name.
  bool climbs = false;
  for (const auto& segment : Split(key, '/')) climbs = climbs || segment == "..";
  if (key.empty() || key[0] == '/' || climbs) {
    Fail(ErrorKind::kInternal, "invalid lake key '{}'", key);
  }
  return root_ / key;
}

ListPage LocalStore::List(const std::string& prefix, const std::string& cursor,
                          size_t limit) const {
  // The prefix may end inside a name ("landing/ord"); walk from its folder and filter.
  std::string dir_part =
      prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/') + 1);
  fs::path dir = dir_part.empty() ? root_ : root_ / dir_part;
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
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
    if (!StartsWith(key, prefix) || key <= cursor) continue;
    out.push_back({key, it->file_size(), ModifiedMs(it->path())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  ListPage page;
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  if (out.size() > limit) {
    out.resize(limit);
    page.next = out.back().key;
  }
  page.objects = std::move(out);
  return page;
}

std::optional<ObjectInfo> LocalStore::Stat(const std::string& key) const {
  fs::path path = PathOf(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return ObjectInfo{key, fs::file_size(path, ec), ModifiedMs(path)};
}

std::optional<std::string> LocalStore::Get(const std::string& key) const {
  if (!Stat(key)) return std::nullopt;
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
  CopyToTemp(source, tmp, target);
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;  // the rename's error is the one to tell
    fs::remove(tmp, ignored);
    Fail(ErrorKind::kIo, "cannot write {}: {}", target.string(), ec.message());
  }
}

bool LocalStore::PutFileIfAbsent(const std::string& key, const fs::path& source) {
  fs::path target = PathOf(key);
  fs::path tmp = target.parent_path() / (".tmp-" + UniqueSuffix());
  CopyToTemp(source, tmp, target);
  // link(2) creates the name only if it does not exist: no window where two writers both win.
  int rc = ::link(tmp.c_str(), target.c_str());
  int err = errno;
  std::error_code ec;
  fs::remove(tmp, ec);
  if (rc == 0) return true;
  if (err == EEXIST) return false;
  Fail(ErrorKind::kIo, "cannot write {}: {}", target.string(), std::strerror(err));
}

bool LocalStore::Move(const std::string& from, const std::string& to) {
  fs::path source = PathOf(from);
  if (!Stat(from)) return false;
  PutFile(to, source);
  Delete(from);  // left behind when PutFile had to copy
  return true;
}

void LocalStore::Delete(const std::string& key) {
  std::error_code ec;
  // Only an object goes: a folder under the key (even an empty one) is not Sluice's to remove.
  if (fs::is_directory(fs::symlink_status(PathOf(key), ec))) return;
  fs::remove(PathOf(key), ec);
  if (ec) Fail(ErrorKind::kIo, "cannot delete {}: {}", Uri(key), ec.message());
}

Fetched LocalStore::Fetch(const std::vector<std::string>& keys) const {
  std::map<std::string, std::string> paths;
  for (const auto& key : keys) paths[key] = PathOf(key).string();
  return Fetched(std::move(paths), {root_.string() + "/"});
}

// _scratch/<owner>/<unique>: the owner (common/process.h) tells whose a folder is after a crash.
fs::path LocalStore::ScratchDir() const {
  fs::path dir = root_ / zones::kScratchFolder / ProcessOwner() / UniqueSuffix();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Fail(ErrorKind::kIo, "cannot create {}: {}", dir.string(), ec.message());
  return dir;
}

size_t LocalStore::RemoveAbandonedScratch() {
  size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root_ / zones::kScratchFolder, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (OwnerAlive(it->path().filename().string())) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    removed += !rm;
  }
  return removed;
}

std::unique_ptr<Watcher> LocalStore::NewWatcher() const {
  return std::make_unique<LocalWatcher>(root_);
}

std::string LocalStore::Uri(const std::string& key) const { return (root_ / key).string(); }

}  // namespace sluice::lake
