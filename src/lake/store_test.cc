// The Store contract (store.h), run against every backend. A new backend adds itself to
// INSTANTIATE_TEST_SUITE_P below and must pass unchanged.
#include "lake/store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/strings.h"
#include "lake/faulty_store.h"
#include "lake/local_store.h"
#include "lake/open.h"

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
  EXPECT_FALSE(store_->Get("a/b.txt"));  // missing: nullopt, not an error
  store_->Put("a/b.txt", "hello");
  EXPECT_EQ(store_->Get("a/b.txt"), "hello");
  EXPECT_EQ(store_->Stat("a/b.txt")->size, 5u);
  store_->Put("a/b.txt", "replaced");
  EXPECT_EQ(store_->Get("a/b.txt"), "replaced");
  store_->Delete("a/b.txt");
  EXPECT_FALSE(store_->Stat("a/b.txt"));
  store_->Delete("a/b.txt");  // idempotent
  EXPECT_FALSE(store_->Get("a/b.txt"));
  // A prefix is not an object: deleting it removes nothing under it.
  store_->Put("c/d/e.txt", "x");
  store_->Delete("c/d");
  EXPECT_EQ(store_->Get("c/d/e.txt"), "x");
}

TEST_P(StoreTest, ListIsSortedPagedByCursorAndHidesTemporaries) {
  for (const char* k : {"z/3", "z/1", "z/sub/2", "y/0"}) store_->Put(k, k);
  store_->Put("z/_scratch/tmp", "x");
  store_->Put("z/.tmp-1", "x");
  auto all = ListAll(*store_, "z/");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key, "z/1");
  EXPECT_EQ(all[1].key, "z/3");
  EXPECT_EQ(all[2].key, "z/sub/2");
  std::vector<std::string> paged;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->List("z/", cursor, 1);
    ASSERT_LE(page.objects.size(), 1u);
    for (const auto& o : page.objects) paged.push_back(o.key);
    cursor = page.next;
    ++pages;
  } while (!cursor.empty());
  EXPECT_EQ(paged, (std::vector<std::string>{"z/1", "z/3", "z/sub/2"}));
  EXPECT_LE(pages, 4);
  auto last = store_->List("z/", "z/3", 5);
  ASSERT_EQ(last.objects.size(), 1u);
  EXPECT_TRUE(last.next.empty());
  EXPECT_TRUE(store_->List("nothing/").objects.empty());
}

TEST_P(StoreTest, ListPagesAreBounded) {
  for (size_t i = 0; i < kMaxListPage + 5; ++i) store_->Put(fmt::format("p/{:05}", i), "");
  auto page = store_->List("p/", "", kMaxListPage * 10);
  EXPECT_EQ(page.objects.size(), kMaxListPage);
  EXPECT_EQ(page.next, page.objects.back().key);
  EXPECT_EQ(ListAll(*store_, "p/").size(), kMaxListPage + 5);
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
  EXPECT_TRUE(StartsWith(*store_->Get("race/f"), "writer "));
}

TEST_P(StoreTest, PutFilePublishesScratchOutput) {
  fs::path scratch = store_->ScratchDir();
  WriteFileAtomic(scratch / "part-0.parquet", "data");
  EXPECT_TRUE(ListAll(*store_, "").empty());  // staging is never listed
  store_->PutFile("staging/t/part-0.parquet", scratch / "part-0.parquet");
  EXPECT_EQ(store_->Get("staging/t/part-0.parquet"), "data");
  EXPECT_EQ(ListAll(*store_, "staging/").size(), 1u);
  fs::remove_all(scratch);
}

TEST_P(StoreTest, MoveReplacesTheTargetAndAnswersAMissingSource) {
  store_->Put("a/1", "one");
  store_->Put("b/1", "old");
  EXPECT_TRUE(store_->Move("a/1", "b/1"));
  EXPECT_FALSE(store_->Stat("a/1"));
  EXPECT_EQ(store_->Get("b/1"), "one");
  EXPECT_FALSE(store_->Move("a/1", "c/1"));
  EXPECT_FALSE(store_->Stat("c/1"));
}

TEST_P(StoreTest, FetchGivesReadablePathsThatMapBackToKeys) {
  store_->Put("t/a.csv", "x\n1\n");
  store_->Put("t/b.csv", "x\n2\n");
  Fetched local = store_->Fetch({"t/a.csv", "t/b.csv"});
  EXPECT_EQ(ReadFile(local.Path("t/a.csv")), "x\n1\n");
  EXPECT_EQ(ReadFile(local.Path("t/b.csv")), "x\n2\n");
  EXPECT_EQ(local.KeyOf(local.Path("t/b.csv")), "t/b.csv");
  EXPECT_FALSE(local.KeyOf("/elsewhere/t/b.csv"));
  EXPECT_THROW(local.Path("t/never-fetched.csv"), Error);
  ASSERT_FALSE(local.Folders().empty());
  for (const auto& key : {"t/a.csv", "t/b.csv"}) {
    bool inside = false;
    for (const auto& f : local.Folders()) inside = inside || StartsWith(local.Path(key), f);
    EXPECT_TRUE(inside) << key;
  }
  // Handles combine, and both sets stay readable.
  store_->Put("u/c.csv", "x\n3\n");
  Fetched more = store_->Fetch({"u/c.csv"});
  local.Add(std::move(more));
  EXPECT_EQ(ReadFile(local.Path("u/c.csv")), "x\n3\n");
  EXPECT_EQ(ReadFile(local.Path("t/a.csv")), "x\n1\n");
}

TEST_P(StoreTest, ASubstitutedCopyIsWhatTheKeyReadsFrom) {
  store_->Put("t/a.json", "{bad\n");
  Fetched local = store_->Fetch({"t/a.json"});
  std::string earlier = local.Path("t/a.json");
  fs::path folder = dir_.string() + "-repaired";
  std::shared_ptr<void> cleanup(nullptr, [&](void*) { fs::remove_all(folder); });
  fs::create_directories(folder);
  std::string copy = (folder / "a.json").string();
  WriteFileAtomic(copy, "{}\n");
  local.Substitute("t/a.json", copy, folder.string());
  EXPECT_EQ(local.Path("t/a.json"), copy);
  EXPECT_EQ(local.KeyOf(copy), "t/a.json");
  EXPECT_FALSE(local.KeyOf(earlier));
  EXPECT_NE(std::find(local.Folders().begin(), local.Folders().end(), folder.string()),
            local.Folders().end());
  EXPECT_THROW(local.Substitute("t/never-fetched.json", copy, folder.string()), Error);
}

TEST_P(StoreTest, RejectsKeysEscapingTheLake) {
  EXPECT_THROW(store_->Put("../outside", "x"), Error);
  EXPECT_THROW(store_->Put("/abs", "x"), Error);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreTest,
    ::testing::Values(
        Backend{"local",
                [](const fs::path& d) { return std::unique_ptr<Store>(new LocalStore(d)); }},
        // The wrapper with no fault armed must keep the contract unchanged.
        Backend{"faulty_local",
                [](const fs::path& d) {
                  return std::unique_ptr<Store>(new FaultyStore(std::make_shared<LocalStore>(d)));
                }}),
    [](const auto& info) { return info.param.name; });

// Every kind of call fails when armed, on exactly the Nth call, and a failed write leaves the
// lake as it was.
TEST(FaultyStoreTest, FailsTheNthCallOfEachKind) {
  fs::path dir = fs::temp_directory_path() / ("sluice-faulty-" + UniqueSuffix());
  auto inner = std::make_shared<LocalStore>(dir / "lake");
  FaultyStore store(inner);
  fs::path src = dir / "src";
  auto call = [&](Call c, int i) {
    std::string key = fmt::format("k/{}-{}", ToString(c), i);
    WriteFileAtomic(src, "bytes");
    inner->Put("k/from", "bytes");
    switch (c) {
      case Call::kList:
        store.List("k/", "", kMaxListPage);
        break;
      case Call::kStat:
        store.Stat(key);
        break;
      case Call::kGet:
        store.Get(key);
        break;
      case Call::kPut:
        store.Put(key, "bytes");
        break;
      case Call::kPutFile:
        store.PutFile(key, src);
        break;
      case Call::kPutFileIfAbsent:
        (void)store.PutFileIfAbsent(key, src);
        break;
      case Call::kMove:
        store.Move("k/from", key);
        break;
      case Call::kDelete:
        store.Delete(key);
        break;
      case Call::kFetch:
        store.Fetch({key});
        break;
      case Call::kScratchDir:
        fs::remove_all(store.ScratchDir());
        break;
    }
    return key;
  };
  for (Call c : kAllCalls) {
    store.FailNth(c, 2);
    EXPECT_NO_THROW(call(c, 1)) << ToString(c);
    std::string failed;
    try {
      failed = fmt::format("k/{}-{}", ToString(c), 2);
      call(c, 2);
      ADD_FAILURE() << ToString(c) << " did not fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kIo) << ToString(c);
    }
    EXPECT_FALSE(inner->Stat(failed)) << ToString(c) << ": a failed call left an object";
    EXPECT_NO_THROW(call(c, 3)) << ToString(c);
  }
  fs::remove_all(dir);
}

// Armed to fail after the call, a write reaches the store and the caller still gets kIo: the
// answer of a write that was made is lost.
TEST(FaultyStoreTest, FailsAfterTheWriteWhenAskedTo) {
  fs::path dir = fs::temp_directory_path() / ("sluice-faulty-after-" + UniqueSuffix());
  auto inner = std::make_shared<LocalStore>(dir / "lake");
  FaultyStore store(inner);
  WriteFileAtomic(dir / "src", "bytes");
  store.FailNthAfter(Call::kPutFile, 1);
  try {
    store.PutFile("k/a", dir / "src");
    ADD_FAILURE() << "PutFile did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("after the call"), std::string::npos) << e.what();
  }
  EXPECT_EQ(inner->Get("k/a"), "bytes");
  WriteFileAtomic(dir / "src", "other");
  store.FailNthAfter(Call::kPutFileIfAbsent, 1);
  EXPECT_THROW((void)store.PutFileIfAbsent("k/b", dir / "src"), Error);
  EXPECT_EQ(inner->Get("k/b"), "other");
  WriteFileAtomic(dir / "src", "third");
  EXPECT_FALSE(store.PutFileIfAbsent("k/b", dir / "src"));  // disarmed: answers again
  store.FailNthAfter(Call::kDelete, 2);
  store.Delete("k/a");
  EXPECT_THROW(store.Delete("k/b"), Error);
  EXPECT_FALSE(inner->Stat("k/b"));
  // FailNth after FailNthAfter fails before the call again.
  store.FailNth(Call::kPut, 1);
  EXPECT_THROW(store.Put("k/c", "x"), Error);
  EXPECT_FALSE(inner->Stat("k/c"));
  fs::remove_all(dir);
}

TEST(OpenTest, ChoosesTheBackendByUri) {
  fs::path dir = fs::temp_directory_path() / ("sluice-open-" + UniqueSuffix());
  lake::Open(dir.string())->Put("a/b", "1");
  EXPECT_EQ(lake::Open("file://" + dir.string())->Get("a/b"), "1");
  try {
    lake::Open("s3://bucket/prefix");
    ADD_FAILURE() << "s3:// opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "lake.unsupported_backend");
    EXPECT_NE(std::string(e.what()).find("s3://bucket/prefix"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(LocalWatcherTest, ReportsWholeFilesUnderWatchedPrefixesOnly) {
  fs::path dir = fs::temp_directory_path() / ("sluice-watch-" + UniqueSuffix());
  LocalStore store(dir);
  auto watcher = store.NewWatcher();
  ASSERT_EQ(watcher->Unavailable(), "");
  watcher->Watch("landing/s/");
  auto land = [&](const std::string& key) {  // a rename: whole at once
    fs::path src = dir.string() + "-src";
    WriteFileAtomic(src, "x\n1\n");
    store.PutFile(key, src);
  };
  land("landing/s/a.csv");
  land("landing/other/b.csv");  // not watched
  {
    std::ofstream out(dir / "landing/s/c.csv");  // written in place: counts once closed
    out << "x\n2\n";
    EXPECT_TRUE(watcher->BeingWritten("landing/s/c.csv"));
  }
  EXPECT_FALSE(watcher->BeingWritten("landing/s/c.csv"));
  fs::create_directories(dir / "landing/s/p=1");
  std::set<std::string> keys;
  bool new_folders = false;
  for (int i = 0; i < 20 && (keys.size() < 2 || !new_folders); ++i) {
    auto got = watcher->Wait(100);
    keys.insert(got.keys.begin(), got.keys.end());
    new_folders = new_folders || got.new_folders;
  }
  EXPECT_EQ(keys, (std::set<std::string>{"landing/s/a.csv", "landing/s/c.csv"}));
  EXPECT_TRUE(new_folders);
  watcher->Watch("landing/s/");  // now the new folder too
  land("landing/s/p=1/d.csv");
  std::vector<std::string> later;
  for (int i = 0; i < 20 && later.empty(); ++i) later = watcher->Wait(100).keys;
  EXPECT_EQ(later, std::vector<std::string>{"landing/s/p=1/d.csv"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::lake
