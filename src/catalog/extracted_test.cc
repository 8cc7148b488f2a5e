#include "catalog/extracted.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/process.h"
#include "lake/local_store.h"
#include "meta/sql_metastore.h"

namespace sluice::catalog {
namespace {

class FinishExtractFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-extracted-" + UniqueSuffix());
    store_ = std::make_unique<lake::LocalStore>(dir_ / "lake");
    meta_ = std::make_unique<meta::SqliteMetastore>(dir_ / "meta.db");
  }
  void TearDown() override { fs::remove_all(dir_); }

  meta::ExtractFile Stage(const std::string& name, const std::string& owner) {
    meta::ExtractFile f;
    f.source = "api";
    f.staging_key = "_extract/" + owner + "/r/" + name;
    f.landing_key = "landing/api/extracted_at=2026-12-06/" + name;
    f.sha256 = "x";
    f.size = 2;
    f.owner = owner;
    meta_->StageExtractFiles({f});
    store_->Put(f.staging_key, "{}");
    return f;
  }

  // A process of this host that is gone: pid 1 did not start at tick 1.
  static std::string Dead(int n) {
    const std::string& me = ProcessOwner();
    return me.substr(0, me.find(':')) + ":1:" + std::to_string(n);
  }

  fs::path dir_;
  std::unique_ptr<lake::LocalStore> store_;
  std::unique_ptr<meta::SqliteMetastore> meta_;
};

TEST_F(FinishExtractFilesTest, LandsCommittedFilesAndDropsThoseOfDeadRuns) {
  // A dead process: one that committed (its files must land), one that did not (they go).
  auto committed = Stage("a.jsonl", Dead(1));
  auto abandoned = Stage("b.jsonl", Dead(2));
  auto running = Stage("c.jsonl", ProcessOwner());  // this process: still staging
  meta_->CommitExtract({"api", 0, "{}", {committed.staging_key}, 1});
  ASSERT_FALSE(OwnerAlive(Dead(1)));

  auto r = FinishExtractFiles(*store_, *meta_);
  EXPECT_EQ(r.landed, 1);
  EXPECT_EQ(r.discarded, 1);
  EXPECT_TRUE(r.lost.empty());
  EXPECT_EQ(store_->Get(committed.landing_key), "{}");
  EXPECT_FALSE(store_->Stat(committed.staging_key));
  EXPECT_FALSE(store_->Stat(abandoned.staging_key));
  EXPECT_FALSE(store_->Stat(abandoned.landing_key));
  EXPECT_TRUE(store_->Stat(running.staging_key));
  ASSERT_EQ(meta_->ExtractFiles("api").size(), 1u);
  EXPECT_EQ(meta_->ExtractFiles("api")[0].staging_key, running.staging_key);
  // Nothing left to do: a second pass changes nothing.
  r = FinishExtractFiles(*store_, *meta_);
  EXPECT_EQ(r.landed + r.discarded, 0);
}

TEST_F(FinishExtractFilesTest, AFileMovedBeforeACrashCountsAsLanded) {
  auto f = Stage("a.jsonl", Dead(1));
  meta_->CommitExtract({"api", 0, "{}", {f.staging_key}, 1});
  ASSERT_TRUE(store_->Move(f.staging_key, f.landing_key));  // the crash came after the move
  auto r = FinishExtractFiles(*store_, *meta_);
  EXPECT_EQ(r.landed, 1);
  EXPECT_TRUE(meta_->ExtractFiles("").empty());
}

TEST_F(FinishExtractFilesTest, ReportsCommittedBytesTheLakeLost) {
  auto f = Stage("a.jsonl", Dead(1));
  meta_->CommitExtract({"api", 0, "{}", {f.staging_key}, 1});
  store_->Delete(f.staging_key);
  // Found, but kept for one who reports it (every command's open does not)...
  EXPECT_EQ(FinishExtractFiles(*store_, *meta_, "", false).lost.size(), 1u);
  EXPECT_EQ(meta_->ExtractFiles("").size(), 1u);
  // ... and reported once by one who does.
  auto r = FinishExtractFiles(*store_, *meta_);
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_EQ(r.lost[0], f.landing_key);
  EXPECT_TRUE(meta_->ExtractFiles("").empty());  // reported once
}

}  // namespace
}  // namespace sluice::catalog
