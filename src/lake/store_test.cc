// The Store contract (store.h), run against every backend. A new backend adds itself to
// INSTANTIATE_TEST_SUITE_P below and must pass unchanged.
#include "lake/store.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/strings.h"
#include "lake/local_store.h"

namespace sluice::lake {
namespace {

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const fs::path& dir)> make;
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-store-" + UniqueSuffix());
    store_ = GetParam().make(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path LocalFile(const std::string& content) {
    fs::path p = dir_.string() + "-src-" + UniqueSuffix();
    WriteFileAtomic(p, content);
    cleanup_.push_back(p);
    return p;
  }
  ~StoreTest() override {
    for (auto& p : cleanup_) fs::remove(p);
  }
  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::vector<fs::path> cleanup_;
};

TEST_P(StoreTest, PutGetStatDelete) {
  EXPECT_FALSE(store_->Stat("a/b.txt"));
  store_->Put("a/b.txt", "hello");
  EXPECT_EQ(store_->Get("a/b.txt"), "hello");
  EXPECT_EQ(store_->Stat("a/b.txt")->size, 5u);
  store_->Put("a/b.txt", "replaced");
  EXPECT_EQ(store_->Get("a/b.txt"), "replaced");
  store_->Delete("a/b.txt");
  EXPECT_FALSE(store_->Stat("a/b.txt"));
  store_->Delete("a/b.txt");  // idempotent
  EXPECT_THROW(store_->Get("a/b.txt"), Error);
}

TEST_P(StoreTest, ListIsSortedPagedAndHidesTemporaries) {
  for (const char* k : {"z/3", "z/1", "z/sub/2", "y/0"}) store_->Put(k, k);
  store_->Put("z/_scratch/tmp", "x");
  store_->Put("z/.tmp-1", "x");
  auto all = store_->List("z/");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, "z/1");
  EXPECT_EQ(all[1].key, "z/3");
  EXPECT_EQ(all[2].key, "z/sub/2");
  auto page = store_->List("z/", "z/1", 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].key, "z/3");
  EXPECT_TRUE(store_->List("nothing/").empty());
}

TEST_P(StoreTest, PutFileIfAbsentNeverReplaces) {
  EXPECT_TRUE(store_->PutFileIfAbsent("landing/s/f.csv", LocalFile("first")));
  EXPECT_FALSE(store_->PutFileIfAbsent("landing/s/f.csv", LocalFile("second")));
  EXPECT_EQ(store_->Get("landing/s/f.csv"), "first");
}

TEST_P(StoreTest, PutFileIfAbsentHasOneWinnerUnderRace) {
  std::vector<fs::path> sources;
  for (int i = 0; i < 8; ++i) sources.push_back(LocalFile("writer " + std::to_string(i)));
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { wins += store_->PutFileIfAbsent("race/f", sources[i]); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_TRUE(StartsWith(store_->Get("race/f"), "writer "));
}

TEST_P(StoreTest, PutFileMovesScratchOutput) {
  fs::path scratch = store_->ScratchDir();
  WriteFileAtomic(scratch / "part-0.parquet", "data");
  store_->PutFile("staging/t/part-0.parquet", scratch / "part-0.parquet");
  EXPECT_EQ(store_->Get("staging/t/part-0.parquet"), "data");
  EXPECT_EQ(ReadFile(store_->ReadablePath("staging/t/part-0.parquet")), "data");
  EXPECT_TRUE(store_->List("staging/").size() == 1);
}

TEST_P(StoreTest, RejectsKeysEscapingTheLake) {
  EXPECT_THROW(store_->Put("../outside", "x"), Error);
  EXPECT_THROW(store_->Put("/abs", "x"), Error);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreTest,
    ::testing::Values(Backend{
        "local", [](const fs::path& d) { return std::unique_ptr<Store>(new LocalStore(d)); }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::lake
