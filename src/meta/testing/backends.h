#pragma once
// The metastore backends every contract, fault and race test of the stores runs against:
// SQLite always, PostgreSQL on a real server (pg::testing::Server, one per test process, started
// at first use) with a database of its own per test.
//
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, ::testing::ValuesIn(meta::testing::Backends()),
//                            meta::testing::BackendName);
//   void SetUp() override { SLUICE_REQUIRE_BACKEND(GetParam()); uri_ = GetParam().uri(dir_); }
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/files.h"

namespace sluice::meta::testing {

struct Backend {
  std::string name;  // "sqlite", "postgresql"
  // The URI (for meta::Open) of a metastore that belongs to the scratch folder `dir`: a new,
  // empty one the first time, the same one again for the same `dir` (a reopen).
  std::function<std::string(const fs::path& dir)> uri;
  // Whether this machine can run it (PostgreSQL installed).
  bool available() const;
};

std::vector<Backend> Backends();
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

}  // namespace sluice::meta::testing

#define SLUICE_REQUIRE_BACKEND(backend)                                                      \
  if (!(backend).available()) {                                                              \
    fprintf(stderr, "SKIPPED: PostgreSQL is not installed (run scripts/bootstrap)\n");       \
    GTEST_SKIP() << "the " << (backend).name << " backend is not installed on this machine"; \
  }
