#include "catalog/json_lines.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "lake/local_store.h"

namespace sluice::catalog {
namespace {

namespace fs = std::filesystem;

class JsonLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-json-lines-" + UniqueSuffix());
    store_ = std::make_unique<lake::LocalStore>(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Reads `key` (holding `text`) as DuckDB's JSON lines reader does, repairing until it gets
  // through: the ids it read, or "whole: <reason>" when the file is kept out whole.
  std::string Read(const std::string& key, const std::string& text, JsonLineRepair& repair) {
    store_->Put(key, text);
    lake::Fetched local = store_->Fetch({key});
    for (int attempt = 0; attempt < 10; ++attempt) {
      try {
        auto r = conn_.Query(
            fmt::format("SELECT string_agg(id::VARCHAR, ',') FROM read_json({}, format = "
                        "'newline_delimited', columns = {{'id': 'BIGINT'}})",
                        SqlString(local.Path(key))));
        return r.GetOr(0, 0);
      } catch (const Error& e) {
        auto absorbed = repair.Absorb(e.what(), local);
        if (absorbed.outcome == JsonLineRepair::Outcome::kWholeFile) {
          return "whole: " + absorbed.whole.reason;
        }
        if (absorbed.outcome == JsonLineRepair::Outcome::kNotALine) throw;
      }
    }
    return "gave up";
  }

  fs::path dir_;
  std::unique_ptr<lake::LocalStore> store_;
  engine::Database db_;
  engine::Connection conn_{db_};
};

TEST_F(JsonLinesTest, BadLinesAreKeptOutByTheirNumberInTheFileAsItLanded) {
  JsonLineRepair repair(conn_, *store_);
  EXPECT_EQ(Read("t/a.json", "{\"id\":1}\n\n{bad\n[1]\n{\"id\":\"x\"}\n   \n{\"id\":2}\n", repair),
            "1,2");
  auto bad = repair.bad_lines();
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].line, 3);
  EXPECT_EQ(bad[0].reason, "malformed: the line is not valid JSON");
  EXPECT_EQ(bad[0].raw, "{bad");
  EXPECT_EQ(bad[1].line, 4);
  EXPECT_EQ(bad[1].reason, "malformed: the line holds a JSON array, not an object");
  // The misfit is found in the copy, past the two lines it no longer holds and the blank one.
  EXPECT_EQ(bad[2].line, 5);
  EXPECT_EQ(bad[2].key, "t/a.json");
  EXPECT_EQ(bad[2].raw, "{\"id\":\"x\"}");
}

TEST_F(JsonLinesTest, ACompressedFileIsReadFromAPlainCopy) {
  JsonLineRepair repair(conn_, *store_);
  std::string gz = dir_.string() + "-a.json.gz";
  std::shared_ptr<void> cleanup(nullptr, [&](void*) { fs::remove(gz); });
  conn_.Execute(fmt::format(
      "COPY (SELECT '{{\"id\":1}}' AS l UNION ALL SELECT 'oops') TO {} (FORMAT csv, HEADER "
      "false, QUOTE '', COMPRESSION gzip)",
      SqlString(gz)));
  EXPECT_EQ(Read("t/a.json.gz", ReadFile(gz), repair), "1");
  ASSERT_EQ(repair.bad_lines().size(), 1u);
  EXPECT_EQ(repair.bad_lines()[0].line, 2);
}

TEST_F(JsonLinesTest, AFileWithNoRecordLineIsKeptOutWhole) {
  JsonLineRepair repair(conn_, *store_);
  EXPECT_EQ(Read("t/doc.json", "[\n{\"id\":1},\n{\"id\":2}\n]\n", repair).substr(0, 31),
            "whole: malformed JSON near line");
  EXPECT_EQ(Read("t/junk.json", "not json\nat all\n", repair).substr(0, 6), "whole:");
  EXPECT_TRUE(repair.bad_lines().empty());
}

TEST_F(JsonLinesTest, TooManyBadLinesKeepTheFileOutWhole) {
  JsonLineRepair repair(conn_, *store_);
  std::string text = "{\"id\":1}\n";
  for (size_t i = 0; i <= JsonLineRepair::kMaxBadLines; ++i) text += "{bad\n";
  EXPECT_EQ(Read("t/a.json", text, repair),
            "whole: 1001 lines are not JSON records (more than "
            "1000); the whole file is kept out");
  EXPECT_TRUE(repair.bad_lines().empty());
}

TEST_F(JsonLinesTest, OtherErrorsAreNotItsToAbsorbAndTheScratchGoesWithIt) {
  {
    JsonLineRepair repair(conn_, *store_);
    lake::Fetched local = store_->Fetch({"t/a.json"});
    EXPECT_EQ(repair.Absorb("Catalog Error: Table with name x does not exist!", local).outcome,
              JsonLineRepair::Outcome::kNotALine);
    // A fault in a file this read was not given is not its to repair either.
    EXPECT_EQ(
        repair.Absorb("Malformed JSON in file \"/elsewhere/a.json\", at byte 1 in line 2: x", local)
            .outcome,
        JsonLineRepair::Outcome::kNotALine);
    EXPECT_EQ(Read("t/b.json", "{\"id\":1}\n{bad\n", repair), "1");
  }
  size_t left = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    left += entry.path().filename() == "b.json";
  }
  EXPECT_EQ(left, 1u);  // the landed file only: the copy went with the repair
}

}  // namespace
}  // namespace sluice::catalog
