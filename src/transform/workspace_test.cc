// A Workspace's definitions are a snapshot: stored when a run records it, loaded back by hash.
#include "transform/workspace.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::transform {
namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sluice-workspace-" + UniqueSuffix());
    WriteFileAtomic(root_ / "sluice.yaml", "project: t\n");
    WriteFileAtomic(root_ / "models/gold/x.sql", "SELECT 1 AS v\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(WorkspaceTest, RunsFindTheDefinitionsTheyRecorded) {
  auto ws = Workspace::Open(root_, "dev");
  ASSERT_TRUE(ws.snapshot);
  std::string first = RecordSnapshot(ws);
  EXPECT_EQ(first, ws.snapshot->Hash());
  EXPECT_EQ(ws.metastore->GetSnapshot(first), ws.snapshot->Manifest());
  EXPECT_EQ(RecordSnapshot(ws), first);  // once per hash

  WriteFileAtomic(root_ / "models/gold/x.sql", "SELECT 2 AS v\n");
  auto reloaded = ws.Reload();
  EXPECT_NE(reloaded.snapshot->Hash(), first);
  EXPECT_EQ(reloaded.project.models.at({"gold", "x"}).sql, "SELECT 2 AS v\n");
  EXPECT_EQ(reloaded.metastore, ws.metastore);

  // The stored definitions, whatever the folder holds now, on the same backends.
  auto old = reloaded.At(first);
  EXPECT_EQ(old.snapshot->Hash(), first);
  EXPECT_EQ(old.project.models.at({"gold", "x"}).sql, "SELECT 1 AS v\n");
  EXPECT_EQ(old.project.root, root_);
  EXPECT_EQ(old.metastore, ws.metastore);
  EXPECT_EQ(old.store, ws.store);
}

TEST_F(WorkspaceTest, AMissingSnapshotIsAnError) {
  auto ws = Workspace::Open(root_, "dev");
  try {
    ws.At(std::string(64, '0'));
    ADD_FAILURE() << "a missing snapshot loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "snapshot.missing");
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("no stored definitions 0000"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sluice::transform
