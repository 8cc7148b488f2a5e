// pg_fixture [DATABASE]: a real PostgreSQL server for the data-driven cases (tests/run_case.py's
// `postgres:` block), the same pg::testing::Server the unit tests use.
//
// Starts a server, creates DATABASE (default `warehouse`; letters, digits and _ only), prints ONE
// line to stdout, a JSON object, and flushes it:
//
//   {"conninfo": "host=/tmp/sluice-pg-XXXXXX port=N user=postgres dbname=warehouse",
//    "uri": "postgresql://postgres:PASSWORD@127.0.0.1:N/warehouse", "password": "PASSWORD",
//    "port": N, "database": "warehouse", "bin_dir": "/usr/...", "psql": "/usr/.../psql"}
//
// conninfo is the superuser over the unix socket (trusted, no password); uri is the same user over
// TCP, where the password is required. psql is the psql beside the server's programs ("" when
// there is none). Then it waits until stdin reaches end of file (its parent closed the pipe or
// died) or SIGTERM/SIGINT/SIGHUP arrives, and stops the server and removes its folder.
//
// Exit codes: 0 after a clean stop; 77 when PostgreSQL is not installed (a test skips); 2 for a
// bad argument; 1 when the server does not start (the message on stderr quotes its log).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "pg/pg.h"
#include "pg/testing/server.h"

namespace {

namespace fs = std::filesystem;

int stop_pipe[2] = {-1, -1};

void OnSignal(int) {
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(stop_pipe[1], &byte, 1);
}

bool IsPlainName(const std::string& name) {
  if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// Blocks until stdin reaches end of file (or fails) or a stop signal arrives.
void WaitForStop() {
  char buffer[4096];
  for (;;) {
    pollfd fds[2] = {{0, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) {
      ssize_t n = read(0, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // end of file (or a broken stdin): stop
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  using sluice::pg::testing::Server;
  const std::string database = argc > 1 ? argv[1] : "warehouse";
  if (argc > 2 || !IsPlainName(database)) {
    fprintf(stderr, "usage: pg_fixture [DATABASE]  (DATABASE: letters, digits and _ only)\n");
    return 2;
  }
  if (Server::BinDir().empty()) {
    fprintf(stderr,
            "SKIPPED: PostgreSQL is not installed (initdb and postgres not found; run "
            "scripts/bootstrap)\n");
    return 77;
  }
  if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
    perror("pg_fixture: pipe");
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    Server server;
    if (database != "postgres") {
      sluice::pg::Connection(server.conninfo()).Query("CREATE DATABASE \"" + database + "\"");
    }
    const std::string bin = Server::BinDir();
    // The bin dir may hold links to the server's programs only (/usr/local/bin/initdb): psql is
    // beside the real initdb.
    std::string psql;
    std::error_code ec;
    for (const auto& dir :
         {fs::path(bin), fs::canonical(fs::path(bin) / "initdb", ec).parent_path()}) {
      if (!dir.empty() && access((dir / "psql").c_str(), X_OK) == 0) {
        psql = (dir / "psql").string();
        break;
      }
    }
    const int port = server.port();
    nlohmann::json line = {
        {"conninfo", server.conninfo(database)},
        {"uri", "postgresql://postgres:" + std::string(Server::kPassword) +
                    "@127.0.0.1:" + std::to_string(port) + "/" + database},
        {"password", Server::kPassword},
        {"port", port},
        {"database", database},
        {"bin_dir", bin},
        {"psql", psql},
    };
    printf("%s\n", line.dump().c_str());
    fflush(stdout);
    WaitForStop();
  } catch (const std::exception& e) {
    fprintf(stderr, "pg_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}
