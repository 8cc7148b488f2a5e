#include "pg/testing/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "common/time.h"

extern char** environ;

namespace sluice::pg::testing {
namespace {

constexpr uid_t kNobody = 65534;  // PostgreSQL refuses to run as root: root runs it as nobody

bool IsRoot() { return geteuid() == 0; }

// Runs the PostgreSQL program `argv` with its output appended to `log`, as nobody when root,
// under setpriv so that it dies with this process. Returns its pid.
pid_t Spawn(std::vector<std::string> argv, const fs::path& log) {
  std::vector<std::string> prefix = {"setpriv", "--pdeathsig", "KILL"};
  if (IsRoot()) {
    prefix.insert(prefix.end(), {"--reuid", std::to_string(kNobody), "--regid",
                                 std::to_string(kNobody), "--clear-groups"});
  }
  prefix.push_back("--");
  argv.insert(argv.begin(), prefix.begin(), prefix.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot run setpriv (util-linux): " + std::string(strerror(rc)));
  return pid;
}

std::string Tail(const fs::path& log) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Gives `path` (and everything under it) to the user the server runs as.
void GiveToServerUser(const fs::path& path) {
  if (!IsRoot()) return;
  if (lchown(path.c_str(), kNobody, kNobody) != 0) {
    throw std::runtime_error("cannot chown " + path.string());
  }
  if (!fs::is_directory(path)) return;
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    if (lchown(entry.path().c_str(), kNobody, kNobody) != 0) {
      throw std::runtime_error("cannot chown " + entry.path().string());
    }
  }
}

// The template cluster for `bin`: made by initdb the first time, under a lock.
fs::path TemplateCluster(const std::string& bin) {
  fs::path root = fs::temp_directory_path() / fmt::format("sluice-pg-template-{}-{:x}", geteuid(),
                                                          std::hash<std::string>{}(bin));
  int lock = open((root.string() + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error("cannot lock " + root.string() + ".lock");
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock};
  if (fs::exists(root / "ready")) return root / "data";
  fs::remove_all(root);
  fs::create_directories(root);
  std::ofstream(root / "password") << Server::kPassword << "\n";
  GiveToServerUser(root);
  pid_t pid = Spawn(
      {bin + "/initdb", "-D", (root / "data").string(), "-U", "postgres", "--auth-local=trust",
       "--auth-host=scram-sha-256", "--pwfile=" + (root / "password").string(), "--no-sync",
       "--no-instructions", "-E", "UTF8", "--locale=C"},
      root / "initdb.log");
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("initdb failed:\n" + Tail(root / "initdb.log"));
  }
  std::ofstream(root / "ready") << "\n";
  return root / "data";
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

std::string Server::BinDir() {
  static const std::string bin = [] {
    auto has = [](const fs::path& dir) {
      return fs::exists(dir / "initdb") && fs::exists(dir / "postgres");
    };
    if (const char* path = std::getenv("PATH")) {
      for (const std::string& dir : Split(path, ':')) {
        if (!dir.empty() && has(dir)) return dir;
      }
    }
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      if (has(entry.path() / "bin")) found.push_back(entry.path() / "bin");
    }
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
      return std::atoi(a.parent_path().filename().c_str()) <
             std::atoi(b.parent_path().filename().c_str());
    });
    return found.empty() ? std::string() : found.back().string();
  }();
  return bin;
}

Server::Server() {
  const std::string bin = BinDir();
  if (bin.empty()) throw std::runtime_error("PostgreSQL is not installed");
  fs::path cluster = TemplateCluster(bin);
  std::string pattern = (fs::temp_directory_path() / "sluice-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  fs::copy(cluster, dir_ / "data", fs::copy_options::recursive);
  fs::permissions(dir_ / "data", fs::perms::owner_all);
  GiveToServerUser(dir_);
  for (int attempt = 1;; ++attempt) {
    port_ = FreePort();
    pid_ = Spawn({bin + "/postgres", "-D", (dir_ / "data").string(), "-p", std::to_string(port_),
                  "-k", dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                  "synchronous_commit=off", "-c", "full_page_writes=off"},
                 dir_ / "server.log");
    const int64_t deadline = MonotonicMs() + 60'000;
    std::string ping = conninfo() + " connect_timeout=2";
    int status = 0;
    bool exited = false;
    while (MonotonicMs() < deadline) {
      if (PQping(ping.c_str()) == PQPING_OK) return;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string log = Tail(dir_ / "server.log");
    if (exited && attempt < 3 && log.find("could not bind") != std::string::npos) continue;
    if (!exited) Stop();
    pid_ = -1;
    fs::remove_all(dir_);
    throw std::runtime_error("PostgreSQL did not start within 60 s:\n" + log);
  }
}

Server::~Server() {
  Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void Server::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGINT);  // fast shutdown
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string Server::conninfo(const std::string& dbname) const {
  return fmt::format("host={} port={} user=postgres dbname={}", dir_.string(), port_, dbname);
}

std::string Server::uri(const std::string& dbname) const {
  return fmt::format("postgresql:///{}?host={}&port={}&user=postgres", dbname, dir_.string(),
                     port_);
}

std::string Server::tcp_conninfo(const std::string& password) const {
  return fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres password={}", port_,
                     password);
}

}  // namespace sluice::pg::testing
