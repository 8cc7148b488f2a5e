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

TEST(CsvEncodingNames, AliasesAndCase) {
  EXPECT_EQ(ParseCsvEncoding("UTF-8"), CsvEncoding::kUtf8);
  EXPECT_EQ(ParseCsvEncoding("ISO-8859-1"), CsvEncoding::kLatin1);
  EXPECT_EQ(ParseCsvEncoding("cp1252"), CsvEncoding::kWindows1252);
  EXPECT_EQ(ParseCsvEncoding("utf-16be"), CsvEncoding::kUtf16Be);
  EXPECT_EQ(ParseCsvEncoding("ebcdic"), std::nullopt);
  EXPECT_EQ(ParseCsvEncoding(std::string(1000, 'u')), std::nullopt);
  for (const auto& name : CsvEncodingNames()) EXPECT_EQ(ToString(*ParseCsvEncoding(name)), name);
}

TEST_F(ProjectTest, CsvReadingOptions) {
  Write("sluice.yaml", "project: shop\n");
  Write("sources/a.yaml",
        "source: a\ncsv:\n  encoding: Windows-1252\n  max_line_size: 4MB\n  null_values: [\"\", "
        "NA]\n  skip_lines: 2\n  date_format: \"%d/%m/%Y\"\n  timestamp_format: \"%d/%m/%Y "
        "%-H:%M\"\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  ASSERT_TRUE(d.empty()) << d.items().front().str();
  const Source& a = p.sources.at("a");
  EXPECT_EQ(a.encoding, CsvEncoding::kWindows1252);
  EXPECT_EQ(a.max_line_size, 4 << 20);
  EXPECT_EQ(a.null_values, (std::vector<std::string>{"", "NA"}));
  EXPECT_EQ(a.skip_lines, 2);
  EXPECT_EQ(a.date_format, "%d/%m/%Y");
  EXPECT_EQ(a.timestamp_format, "%d/%m/%Y %-H:%M");
}

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

namespace sluice::project {
namespace {

TEST_F(ProjectTest, ReadsNotificationsAndLineage) {
  setenv("SLUICE_TEST_HOOK_SECRET", "hook-secret-value", 1);
  setenv("SLUICE_TEST_SMTP_PASS", "smtp-pass-value", 1);
  Write("sluice.yaml",
        "project: shop\n"
        "notifications:\n"
        "  team: { webhook: \"http://127.0.0.1:9999/hook\", secret: "
        "\"${env:SLUICE_TEST_HOOK_SECRET}\","
        " on: [failure, quality], attempts: 2 }\n"
        "  oncall: { email: [ops@example.com], smtp: \"smtp://127.0.0.1:2525\","
        " from: sluice@example.com, username: bot, password: \"${env:SLUICE_TEST_SMTP_PASS}\","
        " tls: try, on: [failure] }\n"
        "  audit: { command: \"cat >> /tmp/x\", on: [all] }\n"
        "  log: { file: logs/notifications.jsonl, on: [success, drift, run_failed] }\n"
        "  quiet: { file: /tmp/quiet.jsonl, on: [] }\n"
        "  fallback: { webhook: \"https://hooks.example.com/x\" }\n"
        "lineage: { url: \"http://127.0.0.1:5000/api/v1/lineage\", namespace: shop }\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  ASSERT_TRUE(d.empty()) << d.items()[0].str();
  ASSERT_EQ(p.channels.size(), 6u);
  const auto& team = p.channels.at("team");
  EXPECT_EQ(team.name, "team");
  EXPECT_EQ(team.type, "webhook");
  EXPECT_EQ(team.target, "http://127.0.0.1:9999/hook");
  EXPECT_EQ(team.secret, "hook-secret-value");
  EXPECT_EQ(team.attempts, 2);
  EXPECT_EQ(team.events,
            std::vector<std::string>({"run_failed", "quality_warned", "quality_failed"}));
  EXPECT_EQ(team.where.str(), "sluice.yaml:3:3");
  const auto& oncall = p.channels.at("oncall");
  EXPECT_EQ(oncall.type, "email");
  EXPECT_EQ(oncall.target, "smtp://127.0.0.1:2525");
  EXPECT_EQ(oncall.to, std::vector<std::string>({"ops@example.com"}));
  EXPECT_EQ(oncall.from, "sluice@example.com");
  EXPECT_EQ(oncall.username, "bot");
  EXPECT_EQ(oncall.password, "smtp-pass-value");
  EXPECT_EQ(oncall.tls, "try");
  EXPECT_EQ(oncall.attempts, 4);
  EXPECT_EQ(p.channels.at("audit").type, "command");
  EXPECT_EQ(p.channels.at("audit").target, "cat >> /tmp/x");
  EXPECT_EQ(p.channels.at("audit").events, kEventTypes);
  const auto& log = p.channels.at("log");
  EXPECT_EQ(log.target, (root_ / "logs/notifications.jsonl").string());
  EXPECT_EQ(log.events, std::vector<std::string>({"run_succeeded", "run_failed", "schema_drift"}));
  EXPECT_EQ(p.channels.at("quiet").target, "/tmp/quiet.jsonl");
  EXPECT_TRUE(p.channels.at("quiet").events.empty());
  EXPECT_EQ(p.channels.at("fallback").events, std::vector<std::string>({"run_failed"}));
  EXPECT_EQ(p.lineage.url, "http://127.0.0.1:5000/api/v1/lineage");
  EXPECT_EQ(p.lineage.namespace_name, "shop");
}

TEST_F(ProjectTest, NoNotificationsByDefault) {
  Write("sluice.yaml", "project: shop\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(p.channels.empty());
  EXPECT_TRUE(p.lineage.url.empty());
  EXPECT_EQ(p.lineage.namespace_name, "sluice");
}

TEST_F(ProjectTest, AChannelSecretFromAnUnsetVariableIsReportedOnlyWhenAsked) {
  unsetenv("SLUICE_TEST_UNSET_HOOK");
  unsetenv("SLUICE_TEST_UNSET_KEY");
  Write("sluice.yaml",
        "project: shop\n"
        "notifications:\n"
        "  team: { webhook: \"${env:SLUICE_TEST_UNSET_HOOK}\",\n"
        "          secret: \"${env:SLUICE_TEST_UNSET_KEY}\", on: [caught] }\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  EXPECT_TRUE(d.empty()) << d.items()[0].str();  // loading for a read-only command
  const auto& team = p.channels.at("team");
  EXPECT_EQ(team.events, std::vector<std::string>({"step_caught"}));
  Diagnostics secrets;
  CheckChannelSecrets(p, secrets);
  ASSERT_EQ(secrets.items().size(), 2u);
  EXPECT_EQ(secrets.items()[0].str(),
            "sluice.yaml:3:20: environment variable "
            "SLUICE_TEST_UNSET_HOOK is not set (notification channel 'team')\n  hint: export "
            "SLUICE_TEST_UNSET_HOOK=... before running sluice");
  EXPECT_EQ(secrets.items()[1].code, "config.env_unset");
}

TEST_F(ProjectTest, ReportsNotificationMistakesWithTheirPlace) {
  Write("sluice.yaml",
        "project: shop\n"
        "notifications:\n"
        "  team: { webhook: \"http://x/hook\", on: [failur] }\n"
        "  both: { webhook: \"http://x\", file: a.jsonl }\n"
        "  none: { on: [failure] }\n"
        "  mail: { email: [not-an-address], from: sluice@example.com, tls: tyr, secret: x }\n"
        "  cmd: { command: \"true\", attempts: zero }\n"
        "  hook: { webhook: \"ftp://x\", retries: 3 }\n"
        "lineage: { namespace: shop }\n");
  Diagnostics d;
  auto p = Load(root_, "dev", d);
  std::vector<std::string> got;
  for (const auto& item : d.items()) got.push_back(item.str());
  std::vector<std::string> want = {
      "sluice.yaml:3:42: unknown event type 'failur' in `on` of channel 'team'\n"
      "  hint: did you mean 'failure'?",
      "sluice.yaml:4:38: notification channel 'both' has both `webhook` and `file`: a channel "
      "is one of them\n  hint: split it into two channels",
      "sluice.yaml:5:3: notification channel 'none' needs one of: webhook, email, command, file\n"
      "  hint: e.g. `webhook: URL`, `email: [ops@example.com]`, `command: \"...\"` or "
      "`file: notifications.jsonl`",
      "sluice.yaml:6:72: `secret` is a setting of webhook channels; notification channel 'mail' "
      "is an email channel",
      "sluice.yaml:6:19: email recipient 'not-an-address' is not an address\n"
      "  hint: e.g. ops@example.com",
      "sluice.yaml:6:3: notification channel 'mail' has no `smtp`, the mail server to send "
      "through\n  hint: add e.g. `smtp: \"smtp://mail.example.com:587\"`",
      "sluice.yaml:6:67: tls 'tyr' is not one of: starttls, try, none\n"
      "  hint: did you mean 'try'?",
      "sluice.yaml:7:37: attempts must be a whole number from 1 to 100, not 'zero'",
      "sluice.yaml:8:31: unknown key 'retries' in notification channel 'hook'\n"
      "  hint: expected one of: webhook, email, command, file, on, attempts, secret, smtp, "
      "from, username, password, tls, description",
      "sluice.yaml:8:20: webhook 'ftp://x' is not an http:// or https:// URL\n"
      "  hint: e.g. webhook: \"https://hooks.example.com/sluice\"",
      "sluice.yaml:9:10: lineage has no `url`, the OpenLineage endpoint to POST run events to\n"
      "  hint: add e.g. `url: \"http://localhost:5000/api/v1/lineage\"`",
  };
  EXPECT_EQ(got, want);
  EXPECT_TRUE(p.channels.count("team"));  // read, with what could be read
}

}  // namespace
}  // namespace sluice::project

#include <sys/stat.h>

#include "project/reader.h"

namespace sluice::project {
namespace {

std::string ReadError(const fs::path& path) {
  try {
    ReadProjectFile(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A project file that is not a regular file is refused before it is read: a FIFO would block
// the reader forever, /dev/zero would fill memory.
TEST_F(ProjectTest, OnlyRegularFilesAreRead) {
  Write("sluice.yaml", "project: shop\n");
  ASSERT_EQ(::mkfifo((root_ / "fifo.dqdl").c_str(), 0600), 0);
  EXPECT_EQ(ReadError(root_ / "fifo.dqdl"), "a named pipe (FIFO), not a regular file");
  EXPECT_EQ(ReadError("/dev/zero"), "a device, not a regular file");
  EXPECT_EQ(ReadError(root_), "a folder, not a file");
  EXPECT_EQ(ReadError(root_ / "sluice.yaml"), "");
  fs::remove(root_ / "sluice.yaml");
  ASSERT_EQ(::mkfifo((root_ / "sluice.yaml").c_str(), 0600), 0);
  Diagnostics d;
  Load(root_, "dev", d);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.items()[0].str(), "sluice.yaml: a named pipe (FIFO), not a regular file");
  EXPECT_TRUE(InsideProject(root_, "checks/a.dqdl"));
  EXPECT_FALSE(InsideProject(root_, "../a.dqdl"));
  EXPECT_FALSE(InsideProject(root_, "/etc/passwd"));
  fs::create_directory_symlink("/etc", root_ / "etc");
  EXPECT_FALSE(InsideProject(root_, "etc/passwd"));
}

}  // namespace
}  // namespace sluice::project
