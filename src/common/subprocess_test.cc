#include "common/subprocess.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/files.h"

namespace sluice {
namespace {

TEST(RunProgram, WhatAProgramLeftRunningEndsWithIt) {
  fs::path marker = fs::temp_directory_path() / ("sluice-late-" + UniqueSuffix());
  Program program;
  // A child in the background, its output detached, that would write after its parent exited.
  program.argv = {"sh", "-c",
                  "(sleep 1; touch '" + marker.string() + "') </dev/null >/dev/null 2>&1 & exit 0"};
  ProgramResult result = RunProgram(program);
  EXPECT_TRUE(result.ok());
  sleep(2);
  EXPECT_FALSE(fs::exists(marker)) << "a child of a finished program went on";
  fs::remove(marker);
}

TEST(RunProgram, ReportsTheExitStatus) {
  Program program;
  program.argv = {"sh", "-c", "echo done >&2; exit 7"};
  std::string err;
  program.on_output = [&](bool is_stderr, std::string_view data) {
    if (is_stderr) err += data;
  };
  ProgramResult result = RunProgram(program);
  EXPECT_EQ(result.end, ProgramEnd::kExited);
  EXPECT_EQ(result.code, 7);
  EXPECT_EQ(err, "done\n");
}

}  // namespace
}  // namespace sluice
