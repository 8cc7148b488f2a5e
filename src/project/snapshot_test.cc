#include "project/snapshot.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.h"

namespace sluice::project {
namespace {

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("sluice-snapshot-" + UniqueSuffix());
    root_ = base_ / "a" / "project";
    fs::create_directories(root_);
    setenv("SLUICE_SNAPSHOT_MIN", "5", 1);
    Write("sluice.yaml", "project: shop\n");
    Write("sources/orders.yaml", "source: orders\nformat: csv\n");
    Write("jobs/clean.yaml",
          "job: clean\ninput: bronze.orders\noutput: silver.orders\n"
          "steps:\n  - filter: \"amount > ${env:SLUICE_SNAPSHOT_MIN}\"\n"
          "checks:\n  - file: checks/clean.dqdl\n");
    Write("checks/clean.dqdl", "Rules = [ RowCount > 0 ]\n");
    Write("models/gold/x.sql", "SELECT * FROM {{ ref('silver.orders') }}\n");
    Write("workflows/daily.yaml",
          "workflow: daily\nsteps:\n  - job: clean\n  - check: silver.orders\n"
          "    rules:\n      - file: ./checks/silver.dqdl\n");
    Write("checks/silver.dqdl", "Rules = [ IsComplete \"id\" ]\n");
    // Not definitions: data, notes and the environment's own files are never read.
    Write("data/orders.csv", "id\n1\n");
    Write("sources/README.txt", "notes\n");
  }
  void TearDown() override {
    unsetenv("SLUICE_SNAPSHOT_MIN");
    fs::remove_all(base_);
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    WriteFileAtomic(root_ / rel, text);
  }
  static Snapshot LoadFolder(const fs::path& root) {
    Diagnostics d;
    DefinitionReader files(root);
    auto snapshot = LoadSnapshot(files, "dev", d);
    EXPECT_TRUE(d.empty()) << d.items()[0].str();
    return snapshot;
  }
  fs::path base_, root_;
};

TEST_F(SnapshotTest, HoldsExactlyTheDefinitionFiles) {
  auto s = LoadFolder(root_);
  std::vector<std::string> paths;
  for (const auto& [path, bytes] : s.files().files()) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"checks/clean.dqdl", "checks/silver.dqdl",
                                             "jobs/clean.yaml", "models/gold/x.sql", "sluice.yaml",
                                             "sources/orders.yaml", "workflows/daily.yaml"}));
  // Rule files are read with the project: nothing reads them again at run time.
  EXPECT_EQ(s.project().jobs.at("clean").checks[0].file_text, "Rules = [ RowCount > 0 ]\n");
  EXPECT_EQ(s.workflows().at("daily").steps[1].checks[0].file_text,
            "Rules = [ IsComplete \"id\" ]\n");
  EXPECT_EQ(s.Hash().size(), 64u);
  EXPECT_EQ(s.Hash(), Sha256Hex(s.Manifest()));
}

TEST_F(SnapshotTest, HashIsStableAcrossLoadsAndPaths) {
  std::string hash = LoadFolder(root_).Hash();
  EXPECT_EQ(LoadFolder(root_).Hash(), hash);
  fs::path copy = base_ / "elsewhere" / "deeper" / "copy";
  fs::create_directories(copy.parent_path());
  fs::copy(root_, copy, fs::copy_options::recursive);
  EXPECT_EQ(LoadFolder(copy).Hash(), hash);
}

TEST_F(SnapshotTest, HashChangesWithAnyDefinitionFile) {
  std::string before = LoadFolder(root_).Hash();
  for (const char* rel :
       {"sluice.yaml", "sources/orders.yaml", "jobs/clean.yaml", "models/gold/x.sql",
        "workflows/daily.yaml", "checks/clean.dqdl", "checks/silver.dqdl"}) {
    std::string text = ReadFile(root_ / rel);
    Write(rel, text + "\n");
    EXPECT_NE(LoadFolder(root_).Hash(), before) << rel;
    Write(rel, text);
    EXPECT_EQ(LoadFolder(root_).Hash(), before) << rel;
  }
  // A file the loader does not read changes nothing.
  Write("data/orders.csv", "id\n2\n");
  EXPECT_EQ(LoadFolder(root_).Hash(), before);
}

TEST_F(SnapshotTest, EnvironmentValuesDoNotChangeTheHash) {
  auto five = LoadFolder(root_);
  setenv("SLUICE_SNAPSHOT_MIN", "7", 1);
  auto seven = LoadFolder(root_);
  EXPECT_EQ(seven.Hash(), five.Hash());
  EXPECT_EQ(five.project().jobs.at("clean").steps[0].text, "amount > 5");
  EXPECT_EQ(seven.project().jobs.at("clean").steps[0].text, "amount > 7");
}

TEST_F(SnapshotTest, LoadsBackFromItsManifest) {
  auto s = LoadFolder(root_);
  fs::remove_all(root_);  // nothing comes from the folder any more
  fs::create_directories(root_);
  auto files = std::make_shared<const DefinitionFiles>(DefinitionFiles::FromManifest(s.Manifest()));
  Diagnostics d;
  DefinitionReader reader(root_, files);
  auto back = LoadSnapshot(reader, "dev", d);
  ASSERT_TRUE(d.empty()) << d.items()[0].str();
  EXPECT_EQ(back.Hash(), s.Hash());
  EXPECT_EQ(back.Manifest(), s.Manifest());
  EXPECT_EQ(back.project().name, "shop");
  EXPECT_EQ(back.project().root, root_);
  EXPECT_EQ(back.project().sources.at("orders").format, "csv");
  EXPECT_EQ(back.project().jobs.at("clean").steps[0].text, "amount > 5");
  EXPECT_EQ(back.project().jobs.at("clean").checks[0].file_text, "Rules = [ RowCount > 0 ]\n");
  EXPECT_EQ(back.project().models.at({"gold", "x"}).sql,
            "SELECT * FROM {{ ref('silver.orders') }}\n");
  EXPECT_EQ(back.workflows().at("daily").text, s.workflows().at("daily").text);
  EXPECT_EQ(back.workflows().at("daily").steps[1].checks[0].file_text,
            "Rules = [ IsComplete \"id\" ]\n");
}

std::string Netstring(const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; }

TEST(DefinitionFiles, RefusesHostileManifests) {
  const std::string header = "sluice-definitions 1\n";
  auto code = [](const std::string& manifest) {
    try {
      DefinitionFiles::FromManifest(manifest);
      return std::string("ok");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      return e.code();
    }
  };
  EXPECT_EQ(code(header + Netstring("sluice.yaml") + Netstring("project: p\n")), "ok");
  EXPECT_EQ(code(header), "ok");
  EXPECT_EQ(code("garbage"), "snapshot.bad_manifest");
  for (const char* path : {"../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "a/."}) {
    EXPECT_EQ(code(header + Netstring(path) + Netstring("x")), "snapshot.bad_manifest") << path;
  }
  EXPECT_EQ(code(header + Netstring("b") + Netstring("") + Netstring("a") + Netstring("")),
            "snapshot.bad_manifest");  // out of order
  EXPECT_EQ(code(header + Netstring("a") + Netstring("") + Netstring("a") + Netstring("")),
            "snapshot.bad_manifest");  // twice
  EXPECT_EQ(code(header + "99:a,"), "snapshot.bad_manifest");
  EXPECT_EQ(code(header + "1:a,5:ab,"), "snapshot.bad_manifest");
  EXPECT_EQ(code(header + "99999999999999999999:a"), "snapshot.bad_manifest");
  std::string many = header;
  for (size_t i = 0; i <= kMaxDefinitionFiles; ++i) {
    many += Netstring(fmt::format("sources/{:06}.yaml", i)) + Netstring("");
  }
  EXPECT_EQ(code(many), "config.too_many_definitions");
}

TEST(DefinitionFiles, EncodingIsUnambiguous) {
  // Without length prefixes these two sets would join to the same bytes.
  DefinitionFiles a =
      DefinitionFiles::FromManifest("sluice-definitions 1\n" + Netstring("ab") + Netstring("c"));
  DefinitionFiles b =
      DefinitionFiles::FromManifest("sluice-definitions 1\n" + Netstring("a") + Netstring("bc"));
  EXPECT_NE(a.Hash(), b.Hash());
  EXPECT_EQ(DefinitionFiles::FromManifest(a.Manifest()).Hash(), a.Hash());
}

TEST_F(SnapshotTest, RefusesALinkLeadingOutOfTheProject) {
  fs::path outside = base_ / "outside.yaml";
  WriteFileAtomic(outside, "source: secret\n");
  fs::create_symlink(outside, root_ / "sources" / "evil.yaml");
  Diagnostics d;
  DefinitionReader files(root_);
  Load(files, "dev", d);
  ASSERT_EQ(d.items().size(), 1u);
  EXPECT_EQ(d.items()[0].str(), "sources/evil.yaml: a link leading out of the project");
  EXPECT_EQ(d.items()[0].code, "config.unreadable_file");
  EXPECT_FALSE(files.files().Find("sources/evil.yaml"));
}

TEST_F(SnapshotTest, BoundsWhatItReads) {
  for (size_t i = 0; i <= kMaxDefinitionFiles; ++i) {
    WriteFileAtomic(root_ / "sources" / fmt::format("s{:06}.yml", i), "");
  }
  Diagnostics d;
  DefinitionReader files(root_);
  Load(files, "dev", d);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.items()[0].code, "config.too_many_definitions");
  EXPECT_EQ(d.items()[0].where.file, "sources");
}

}  // namespace
}  // namespace sluice::project
