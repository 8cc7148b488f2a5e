#include "project/project.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::project {
namespace {

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sluice-project-" + UniqueSuffix());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    WriteFileAtomic(root_ / rel, text);
  }
  fs::path root_;
};

TEST_F(ProjectTest, LoadsResources) {
  Write("sluice.yaml", "project: shop\n");
  Write("sources/orders.yaml", "source: orders\nformat: csv\non_schema_change: fail\n");
  Write("jobs/clean.yaml",
        "job: clean\ninput: bronze.orders\nincremental: true\n"
        "output: { table: silver.orders, mode: merge, key: [id] }\n"
        "steps:\n  - rename: { A: a }\n  - mask: { e: { partial: 2 } }\n"
        "checks:\n  - rule: IsComplete \"a\"\n    on_fail: quarantine\n");
  Write("models/gold/x.sql", "SELECT * FROM {{ ref('silver.orders') }}\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  ASSERT_TRUE(d.empty()) << d.items()[0].str();
  EXPECT_EQ(p.name, "shop");
  EXPECT_EQ(p.sources.at("orders").on_schema_change, "fail");
  const auto& job = p.jobs.at("clean");
  EXPECT_TRUE(job.incremental);
  EXPECT_EQ(job.output.mode, "merge");
  EXPECT_EQ(job.steps[1].masks[0].second.keep, 2);
  EXPECT_EQ(job.checks[0].on_fail, "quarantine");
  const auto& model = p.models.at({"gold", "x"});
  ASSERT_EQ(model.refs.size(), 1u);
  EXPECT_EQ(p.CompiledModelSql(model), "SELECT * FROM silver.orders\n");
  EXPECT_EQ(p.env.lake, root_ / "lake");
}

TEST_F(ProjectTest, ReportsEveryProblemWithItsPlace) {
  Write("sluice.yaml", "project: shop\n");
  Write("sources/orders.yaml", "source: orders\nfromat: csv\n");
  Write("jobs/clean.yaml", "job: clean\ninput: orders\noutput: bronze.x\nsteps:\n  - filtr: x\n");
  Diagnostics d;
  Load(root_, "dev", d);
  ASSERT_EQ(d.items().size(), 4u);
  EXPECT_EQ(d.items()[0].str(),
            "jobs/clean.yaml:2:8: input 'orders' is not a table name\n"
            "  hint: write it as database.table, e.g. silver.orders");
  EXPECT_EQ(d.items()[1].where.str(), "jobs/clean.yaml:3:9");
  EXPECT_EQ(d.items()[2].str(),
            "jobs/clean.yaml:5:5: unknown step 'filtr'\n  hint: did you mean 'filter'?");
  EXPECT_EQ(d.items()[3].str(),
            "sources/orders.yaml:2:1: unknown key 'fromat' in a source\n"
            "  hint: did you mean 'format'?");
  EXPECT_THROW(d.ThrowIfAny(), Error);
}

TEST_F(ProjectTest, SubstitutesEnvironmentVariables) {
  setenv("SLUICE_TEST_LAKE", "elsewhere", 1);
  Write("sluice.yaml",
        "project: shop\nenvironments:\n  dev: { lake: \"${env:SLUICE_TEST_LAKE}\" }\n"
        "  prod: { lake: \"${env:SLUICE_TEST_UNSET_VAR}\" }\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(p.env.lake, root_ / "elsewhere");
  Diagnostics d2;
  Load(root_, "prod", d2);
  ASSERT_EQ(d2.items().size(), 1u);
  EXPECT_EQ(d2.items()[0].message, "environment variable SLUICE_TEST_UNSET_VAR is not set");
  Diagnostics d3;
  Load(root_, "prdo", d3);
  EXPECT_EQ(d3.items()[0].hint, "did you mean 'prod'?");
}

TEST(TableName, Parses) {
  EXPECT_EQ(TableName::Parse("Silver.Orders")->str(), "silver.orders");
  EXPECT_FALSE(TableName::Parse("orders"));
  EXPECT_FALSE(TableName::Parse("a.b.c"));
}

}  // namespace
}  // namespace sluice::project
