#include "lake/local_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::lake {

namespace {
// Temporaries and staging folders start with '.' or '_' and are never objects (lake/zones.h).
bool Hidden(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '_'; }

// Whether some process has the file open for writing: a read lease cannot be taken then. An
// answer of "no" for a file created whole (link or rename) lets it start work at once.
bool OpenForWriting(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return true;
  bool writing = true;
  if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    writing = false;
    fcntl(fd, F_SETLEASE, F_UNLCK);
  }
  ::close(fd);
  return writing;
}
}  // namespace

LocalWatcher::LocalWatcher(fs::path root) : root_(fs::absolute(root).lexically_normal()) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) unavailable_ = std::strerror(errno);
}

LocalWatcher::~LocalWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

void LocalWatcher::Watch(const std::string& prefix) {
  if (fd_ < 0) return;
  // The prefix's folder and every folder below it (partitions).
  fs::path top = root_ / prefix;
  std::error_code ec;
  fs::create_directories(top, ec);
  std::vector<fs::path> dirs = {top};
  for (auto it = fs::recursive_directory_iterator(top, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory() && !Hidden(it->path().filename().string())) dirs.push_back(*it);
  }
  for (const auto& d : dirs) {
    int wd =
        inotify_add_watch(fd_, d.c_str(), IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) continue;
    std::string rel = fs::relative(d, top, ec).string();
    std::lock_guard lock(mu_);
    folders_[wd] = rel == "." ? prefix : prefix + rel + "/";
  }
}

Arrivals LocalWatcher::Wait(int timeout_ms) {
  Arrivals out;
  if (fd_ < 0) return out;
  alignas(inotify_event) char buf[64 * 1024];
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return out;
  ssize_t n = ::read(fd_, buf, sizeof buf);
  for (char* ptr = buf; n > 0 && ptr < buf + n;) {
    auto* ev = reinterpret_cast<inotify_event*>(ptr);
    ptr += sizeof(inotify_event) + ev->len;
    if (ev->len == 0) continue;
    std::string name = ev->name;
    if (Hidden(name)) continue;
    std::string folder;
    {
      std::lock_guard lock(mu_);
      auto it = folders_.find(ev->wd);
      if (it == folders_.end()) continue;
      folder = it->second;
    }
    if (ev->mask & IN_ISDIR) {
      out.new_folders = true;
      continue;
    }
    std::string key = folder + name;
    if ((ev->mask & IN_CREATE) && BeingWritten(key)) continue;  // its IN_CLOSE_WRITE follows
    out.keys.push_back(key);
  }
  std::sort(out.keys.begin(), out.keys.end());
  out.keys.erase(std::unique(out.keys.begin(), out.keys.end()), out.keys.end());
  return out;
}

bool LocalWatcher::BeingWritten(const std::string& key) const {
  return OpenForWriting(root_ / key);
}

}  // namespace sluice::lake
