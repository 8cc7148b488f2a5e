#include "transform/checks.h"

#include <fmt/format.h>

#include <algorithm>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/files.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "project/reader.h"
#include "quality/check_specs.h"
#include "transform/set_aside.h"

namespace sluice::transform {

std::vector<quality::Rule> ReadRuleFile(const fs::path& path, const std::string& shown_as,
                                        const std::string& on_fail) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    FailWithCode(ErrorKind::kUsage, "usage.no_rule_file", "no rule file {}", shown_as);
  std::string text;
  try {
    text = project::ReadProjectFile(path);
  } catch (const Error& e) {
    FailWithCode(ErrorKind::kConfig, "config.unreadable_file", "rule file {}: {}", shown_as,
                 e.what());
  }
  quality::ParseError error;
  auto rules = quality::ParseRuleSet(text, error);
  if (!rules) {
    auto [line, column] = quality::LineColumn(text, error.offset);
    FailWithCode(ErrorKind::kConfig, "dqdl.syntax", "{}:{}:{}: {}", shown_as, line, column,
                 error.message);
  }
  for (auto& r : *rules) r.on_fail = on_fail;
  return *rules;
}

std::vector<quality::Rule> TableRules(const Workspace& ws, const project::TableName& table,
                                      const std::string& rules_file) {
  if (!rules_file.empty()) {
    // A relative path is looked for where the command runs, then in the project (as
    // `sluice profile --suggest` writes it).
    fs::path path = rules_file;
    std::error_code ec;
    if (path.is_relative() && !fs::exists(path, ec) && fs::exists(ws.project.root / path, ec)) {
      path = ws.project.root / path;
    }
    return ReadRuleFile(path, rules_file);
  }
  std::vector<quality::Rule> rules;
  std::string rel = fmt::format("checks/{}.dqdl", table.str());
  std::error_code ec;
  if (fs::exists(ws.project.root / rel, ec)) rules = ReadRuleFile(ws.project.root / rel, rel);
  // Then the checks the job or model writing the table declares (once each: such a check may
  // name the same file).
  const std::vector<project::CheckSpec>* declared = nullptr;
  for (const auto& [name, job] : ws.project.jobs) {
    if (job.output.table.str() == table.str()) declared = &job.checks;
  }
  if (auto model = ws.project.models.find(table); model != ws.project.models.end()) {
    declared = &model->second.checks;
  }
  if (declared && !declared->empty()) {
    project::Diagnostics diagnostics;
    auto more = quality::ParseCheckSpecs(*declared, diagnostics);
    diagnostics.ThrowIfAny();
    for (auto& r : more) {
      if (std::none_of(rules.begin(), rules.end(), [&](const quality::Rule& have) {
            return have.text == r.text && have.on_fail == r.on_fail;
          })) {
        rules.push_back(std::move(r));
      }
    }
  }
  if (rules.empty()) {
    FailWithCode(
        ErrorKind::kUsage, "usage.no_rules",
        "no rules for {}: write them in {} (a DQDL rule set, e.g. Rules = [ RowCount > 0 ]), "
        "declare checks on the job or model that writes it, or pass --rules FILE",
        table.str(), rel);
  }
  return rules;
}

std::vector<meta::CheckResult> JudgeBatch(engine::Connection& conn, const std::string& batch,
                                          const std::string& output,
                                          const std::vector<quality::Rule>& rules,
                                          const quality::History& history,
                                          const std::string& quarantine) {
  return quality::Judge(conn, batch, output, rules, history, [&](const quality::Rule& r) {
    int64_t failing = 0;
    if (!quarantine.empty()) {
      // Reasons are joined by "; ": match a whole one (a rule's text may start another's).
      failing = conn.Query(fmt::format("SELECT count(*) FROM {} WHERE contains('; ' || _reason || "
                                       "'; ', {})",
                                       quarantine, SqlString("; " + CheckReason(r) + "; ")))
                    .GetInt(0, 0);
    }
    return meta::CheckResult{output,
                             r.text,
                             r.on_fail,
                             failing ? "fail" : "pass",
                             fmt::format("{} quarantined", failing),
                             failing,
                             fmt::format("{} row{} quarantined", failing, failing == 1 ? "" : "s")};
  });
}

bool CheckReport::failed() const {
  return std::any_of(results.begin(), results.end(), quality::Failed);
}

std::vector<meta::CheckResult> EvaluateTable(Workspace& ws, const project::TableName& table,
                                             const std::vector<quality::Rule>& rules) {
  engine::Database db;
  engine::Connection conn(db);
  lake::Fetched held;
  catalog::AttachTables(conn, *ws.metastore, *ws.store, held);
  quality::History history = [&](const std::string& rule, size_t n) {
    return ws.metastore->RuleHistory(table.str(), rule, n, "check");
  };
  auto facts = catalog::AttachWithFacts(conn, *ws.metastore, *ws.store, table.db, table.name, held);
  return quality::Evaluate(conn, table.str(), table.str(), rules, history, facts);
}

CheckReport CheckTable(Workspace& ws, const project::TableName& table,
                       const std::vector<quality::Rule>& rules, const std::string& trigger) {
  auto& m = *ws.metastore;
  if (!m.GetTable(table.db, table.name)) {
    FailWithCode(ErrorKind::kUsage, "usage.unknown_table",
                 "no table {} in the catalog; `sluice catalog` lists them", table.str());
  }
  CheckReport report;
  int64_t t0 = NowMs();
  report.run_id = m.StartRun("check", table.str(), trigger, RecordSnapshot(ws));
  meta::Run run{report.run_id, "check", table.str(), meta::RunStatus::kRunning, trigger, t0};
  try {
    report.results = EvaluateTable(ws, table, rules);
  } catch (const Error& e) {
    m.FailRun(run, Redact(e.what()));
    throw;
  }
  run.ended_ms = NowMs();
  report.duration_ms = run.ended_ms - t0;
  run.status = report.failed() ? meta::RunStatus::kFailed : meta::RunStatus::kSucceeded;
  if (report.failed()) {
    auto failed = std::count_if(report.results.begin(), report.results.end(), quality::Failed);
    run.error = fmt::format("{} rule{} failed", failed, failed == 1 ? "" : "s");
  }
  m.FinishRun(run, {}, report.results);
  return report;
}

}  // namespace sluice::transform
