#pragma once
// A real PostgreSQL server for tests: a fresh cluster in a temporary folder, listening on
// 127.0.0.1 and on a unix socket in that folder, on a free port; stopped and removed by the
// destructor. Tests of anything over PostgreSQL (pg/, the metastore, the warehouse) use it:
//
//   SLUICE_REQUIRE_POSTGRES();            // skips, loudly, when PostgreSQL is not installed
//   pg::testing::Server server;
//   pg::Connection connection(server.conninfo());
//
// initdb runs once per machine into a template cluster (under a file lock, so parallel test
// processes share it); each Server copies the template and starts in about a second. Run as
// root, the cluster belongs to `nobody` and the server runs as `nobody` (PostgreSQL refuses
// root). The server dies with the test process (parent-death signal), so a crashed test leaves
// no server behind; its folder stays in the temporary directory.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>

#include "common/files.h"

namespace sluice::pg::testing {

class Server {
 public:
  // The folder holding initdb and postgres (PATH first, then /usr/lib/postgresql/<newest>/bin),
  // or "" when PostgreSQL is not installed.
  static std::string BinDir();

  // Starts a server; throws std::runtime_error, quoting the server's log, when it is not
  // accepting connections within 60 s.
  Server();
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  // The superuser `postgres` over the unix socket, trusted (no password).
  std::string conninfo(const std::string& dbname = "postgres") const;
  // The same as a postgresql:// URI (the socket folder in its query string).
  std::string uri(const std::string& dbname = "postgres") const;
  // `postgres` over TCP to 127.0.0.1, where the password is required: this one, kPassword.
  std::string tcp_conninfo(const std::string& password) const;
  static constexpr const char* kPassword = "fixture-pw-7f3a";

 private:
  void Stop();

  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sluice::pg::testing

// Skips the test with a message on stderr when PostgreSQL is missing (scripts/bootstrap installs
// it, so in CI these tests run).
#define SLUICE_REQUIRE_POSTGRES()                                                      \
  if (::sluice::pg::testing::Server::BinDir().empty()) {                               \
    fprintf(stderr, "SKIPPED: PostgreSQL is not installed (run scripts/bootstrap)\n"); \
    GTEST_SKIP() << "PostgreSQL is not installed (initdb and postgres not found; run " \
                    "scripts/bootstrap)";                                              \
  }
