// DuckDB under common/sandbox.h: what the kernel refuses even when DuckDB's own settings allow it.
#include "common/sandbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "engine/engine.h"

namespace sluice::engine {
namespace {

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    if (LandlockAbi() == 0) GTEST_SKIP() << "this kernel offers no Landlock";
    root_ = fs::temp_directory_path() / ("sluice-sandbox-" + UniqueSuffix());
    fs::create_directories(root_ / "lake" / "landing");
    fs::create_directories(root_ / "state");
    std::ofstream(root_ / "lake" / "landing" / "a.csv") << "id\n1\n2\n";
    std::ofstream(root_ / "outside.txt") << "not for the query\n";
    fs::create_symlink(root_ / "outside.txt", root_ / "lake" / "landing" / "link.csv");
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }
  // Runs `sql` in the sandbox on a DuckDB that itself allows everything under the lake.
  void RunInSandbox(const std::string& sql) {
    SandboxPolicy policy{{root_ / "lake"}, root_ / "state" / "scratch", 60000};
    RunSandboxed(policy, [&] {
      Database db;
      Connection conn(db);
      conn.Execute(fmt::format("SET allowed_directories = [{}]; SET enable_external_access = false",
                               SqlString((root_ / "lake").string() + "/")));
      conn.Query(sql);
    });
  }
  fs::path root_;
};

TEST_F(Sandbox, ReadsTheLake) {
  EXPECT_NO_THROW(RunInSandbox(fmt::format(
      "SELECT * FROM read_csv({})", SqlString((root_ / "lake" / "landing" / "a.csv").string()))));
}

// A statement that gets past any statement check still cannot write: DuckDB allows a COPY into
// its allowed directory, the kernel does not, and the landed file stays as it was.
TEST_F(Sandbox, KernelRefusesAWriteDuckDbAllows) {
  const fs::path landed = root_ / "lake" / "landing" / "a.csv";
  try {
    RunInSandbox(
        fmt::format("COPY (SELECT 9 AS id) TO {} (HEADER, OVERWRITE)", SqlString(landed.string())));
    FAIL() << "the COPY ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ermission denied"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFile(landed), "id\n1\n2\n");
  const std::string fresh = (root_ / "lake" / "new.csv").string();
  EXPECT_THROW(RunInSandbox("COPY (SELECT 1) TO " + SqlString(fresh)), Error);
  EXPECT_FALSE(fs::exists(root_ / "lake" / "new.csv"));
}

// DuckDB checks allowed_directories by the name; the kernel by the file the name leads to.
TEST_F(Sandbox, LinkInsideTheLakeDoesNotReachOutside) {
  try {
    RunInSandbox(fmt::format("SELECT * FROM read_text({})",
                             SqlString((root_ / "lake" / "landing" / "link.csv").string())));
    FAIL() << "read through the link";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ermission denied"), std::string::npos) << e.what();
  }
}

TEST_F(Sandbox, ErrorsComeBackWithKindAndCode) {
  SandboxPolicy policy{{root_ / "lake"}, root_ / "state" / "scratch", 60000};
  try {
    RunSandboxed(policy, [] { FailWithCode(ErrorKind::kUsage, "x.y", "refused {}", 1); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(e.code(), "x.y");
    EXPECT_STREQ(e.what(), "refused 1");
  }
}

TEST_F(Sandbox, StopsAtTheTimeout) {
  SandboxPolicy policy{{root_ / "lake"}, root_ / "state" / "scratch", 300};
  auto end = RunSandboxed(policy, [] {
    while (true) pause();
  });
  EXPECT_EQ(end, SandboxEnd::kTimedOut);
}

}  // namespace
}  // namespace sluice::engine
