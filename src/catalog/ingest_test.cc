// sluice ingest against a real folder lake and a real SQLite metastore: names, symbolic links and
// a full disk.
#include "catalog/ingest.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>

#include "common/error.h"
#include "lake/faulty_store.h"
#include "lake/local_store.h"
#include "meta/sql_metastore.h"

namespace sluice::catalog {
namespace {

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-ingest-" + UniqueSuffix());
    fs::create_directories(dir_ / "in");
    store_ = std::make_unique<lake::LocalStore>(dir_ / "lake");
    metastore_ = std::make_unique<meta::SqliteMetastore>(dir_ / "meta.db");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& rel, const std::string& content) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p;
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (const auto& o : lake::ListAll(*store_, "landing/")) keys.push_back(o.key);
    return keys;
  }
  fs::path dir_;
  std::unique_ptr<lake::Store> store_;
  std::unique_ptr<meta::Metastore> metastore_;
};

// The lake fails while the second of three files lands: the first is landed and registered, the
// second neither (no half-written object under its key or a temporary), and a rerun lands the
// rest and registers each file once.
TEST_F(IngestTest, AStoreFailingMidIngestLeavesTheRegistryConsistent) {
  auto faulty = std::make_shared<lake::FaultyStore>(
      std::shared_ptr<lake::Store>(store_.get(), [](lake::Store*) {}));
  std::vector<std::string> files;
  for (const char* name : {"a", "b", "c"}) {
    Write(fmt::format("in/{}.csv", name), fmt::format("id\n{}\n", name));
    files.push_back((dir_ / fmt::format("in/{}.csv", name)).string());
  }
  faulty->FailNth(lake::Call::kPutFileIfAbsent, 2);
  EXPECT_THROW(Ingest("o", files, *faulty, *metastore_), Error);
  EXPECT_EQ(Keys(), std::vector<std::string>{"landing/o/a.csv"});
  EXPECT_TRUE(metastore_->FindLanded("o", Sha256File(files[0])));
  EXPECT_FALSE(metastore_->FindLanded("o", Sha256File(files[1])));
  EXPECT_FALSE(metastore_->FindLanded("o", Sha256File(files[2])));
  size_t entries = 0;
  for (auto it = fs::recursive_directory_iterator(dir_ / "lake/landing");
       it != fs::recursive_directory_iterator(); ++it) {
    entries += it->is_regular_file();
  }
  EXPECT_EQ(entries, 1u) << "a temporary or half-written file was left in the lake";

  auto out = Ingest("o", files, *faulty, *metastore_);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].outcome, "duplicate");
  EXPECT_EQ(out[1].outcome, "landed");
  EXPECT_EQ(out[2].outcome, "landed");
  EXPECT_EQ(Keys(),
            (std::vector<std::string>{"landing/o/a.csv", "landing/o/b.csv", "landing/o/c.csv"}));
  for (const auto& f : files) EXPECT_TRUE(metastore_->FindLanded("o", Sha256File(f))) << f;
}

// The lake stores the file but its answer is lost: nothing is registered, and a rerun finds the
// object with the same content and registers it once, without landing it a second time.
TEST_F(IngestTest, ALandingWhoseAnswerIsLostIsRegisteredOnceByTheRerun) {
  auto faulty = std::make_shared<lake::FaultyStore>(
      std::shared_ptr<lake::Store>(store_.get(), [](lake::Store*) {}));
  Write("in/a.csv", "id\n1\n");
  std::vector<std::string> files = {(dir_ / "in/a.csv").string()};
  faulty->FailNthAfter(lake::Call::kPutFileIfAbsent, 1);
  EXPECT_THROW(Ingest("o", files, *faulty, *metastore_), Error);
  EXPECT_EQ(Keys(), std::vector<std::string>{"landing/o/a.csv"});
  EXPECT_FALSE(metastore_->FindLanded("o", Sha256File(files[0])));
  auto out = Ingest("o", files, *faulty, *metastore_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "landing/o/a.csv");
  EXPECT_TRUE(metastore_->FindLanded("o", Sha256File(files[0])));
  EXPECT_EQ(Keys(), std::vector<std::string>{"landing/o/a.csv"});
  EXPECT_EQ(Ingest("o", files, *faulty, *metastore_)[0].outcome, "duplicate");
}

TEST_F(IngestTest, DotsInsideANameAreJustAName) {
  Write("in/a..b.csv", "id\n1\n");
  auto out = Ingest("o", {(dir_ / "in/a..b.csv").string()}, *store_, *metastore_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "landing/o/a..b.csv");
  EXPECT_EQ(out[0].outcome, "landed");
  EXPECT_EQ(*store_->Get("landing/o/a..b.csv"), "id\n1\n");
}

// Every key=value folder of the given path is a partition; only the given path's own folders
// (never the temporary folder it sits in) and the folders below it count.
TEST_F(IngestTest, KeyValueFoldersOfTheGivenPathArePartitions) {
  Write("in/region=eu/dt=2026-01-01/a.csv", "id\n1\n");
  Write("in/region=eu/dt=2026-01-02/b.csv", "id\n2\n");
  auto out = Ingest("o", {(dir_ / "in/region=eu/dt=2026-01-01").string()}, *store_, *metastore_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "landing/o/region=eu/dt=2026-01-01/a.csv");
  out = Ingest("o", {(dir_ / "in/region=eu/dt=2026-01-02/b.csv").string()}, *store_, *metastore_);
  EXPECT_EQ(out[0].key, "landing/o/region=eu/dt=2026-01-02/b.csv");
}

TEST_F(IngestTest, ControlCharactersInANameAreRefusedAndShownEscaped) {
  Write("in/a\nb.csv", "id\n1\n");
  try {
    Ingest("o", {(dir_ / "in").string()}, *store_, *metastore_);
    ADD_FAILURE() << "a name with a newline landed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "input.control_character");
    EXPECT_NE(std::string(e.what()).find("a\\x0ab.csv"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string(e.what()).find("\n  hint"));
  }
  EXPECT_TRUE(Keys().empty());
}

// A folder's links are followed as a link given by name is: its target's bytes land under the
// link's name; a linked folder is walked once (a link back up the tree does not loop).
TEST_F(IngestTest, FolderIngestFollowsLinksAsSingleFileIngestDoes) {
  Write("in/real.csv", "id\n1\n");
  Write("outside/x.csv", "id\n2\n");
  Write("outside/dir/y.csv", "id\n3\n");
  fs::create_symlink(dir_ / "outside/x.csv", dir_ / "in/link.csv");
  fs::create_directory_symlink(dir_ / "outside/dir", dir_ / "in/sub");
  fs::create_directory_symlink(dir_ / "in", dir_ / "in/loop");
  Ingest("o", {(dir_ / "in").string()}, *store_, *metastore_);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"landing/o/link.csv", "landing/o/real.csv",
                                              "landing/o/sub/y.csv"}));
  EXPECT_EQ(*store_->Get("landing/o/link.csv"), "id\n2\n");
  // The same link given by name lands the same bytes.
  auto one = Ingest("p", {(dir_ / "in/link.csv").string()}, *store_, *metastore_);
  EXPECT_EQ(*store_->Get(one[0].key), "id\n2\n");
}

TEST_F(IngestTest, ALinkToNothingIsAnErrorNotASkip) {
  Write("in/real.csv", "id\n1\n");
  fs::create_symlink(dir_ / "gone.csv", dir_ / "in/dangling.csv");
  try {
    Ingest("o", {(dir_ / "in").string()}, *store_, *metastore_);
    FAIL() << "ingest took a folder with a dangling link";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("dangling.csv: a symbolic link to nothing"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(Keys().empty());  // nothing landed before the check
}

// A real full filesystem (tmpfs of 1 MiB under the lake; needs root, as CI has).
TEST_F(IngestTest, AFullDiskSaysSoAndLeavesNoPartFile) {
  fs::path lake = dir_ / "lake";
  if (::mount("tmpfs", lake.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  }
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount(at.c_str()); }
  } unmount{lake};
  fs::path big = Write("in/big.csv", "id\n" + std::string(3 << 20, '7') + "\n");
  try {
    Ingest("o", {big.string()}, *store_, *metastore_);
    FAIL() << "a 3 MiB file landed on a 1 MiB disk";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  // Not the file, nor a hidden temporary of it.
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(lake / "landing", ec)) {
    if (e.is_regular_file()) left.push_back(e.path().string());
  }
  EXPECT_TRUE(left.empty()) << left.front();
  EXPECT_FALSE(metastore_->FindLanded("o", Sha256File(big)));
}

}  // namespace
}  // namespace sluice::catalog
