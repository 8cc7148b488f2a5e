#pragma once
// The crawler (Glue's crawler): finds files landed under landing/<source>/ that the catalog does
// not know yet, infers their format, dialect and schema, finds key=value partitions, applies the
// source's on_schema_change policy, and publishes a new version of bronze.<source>.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"

namespace sluice::catalog {

struct CrawlReport {
  std::string source;
  int64_t run_id = 0;
  size_t new_files = 0;
  size_t registered = 0;
  std::vector<std::pair<std::string, std::string>> quarantined;  // key, reason
  // Files the source's checks (on_fail: quarantine) or its on_schema_change: quarantine kept out
  // (key, reason): held, so `sluice landing release` may crawl them again.
  std::vector<std::pair<std::string, std::string>> held;
  int64_t version = 0;        // the table's version after the crawl
  bool changed = false;       // a new version was published
  std::string schema_change;  // e.g. "added coupon VARCHAR; widened amount BIGINT -> DOUBLE"
  std::vector<meta::CheckResult> checks;  // the source's checks over the new files
  // A new file was quarantined or held (`sluice crawl --detailed-exitcode` exits 4).
  bool kept_out() const { return !quarantined.empty() || !held.empty(); }
};

// The source's `checks:` judge the new files' rows before they are registered. Throws
// sluice::Error(kInput) when the source's policy is `fail` and a file drifts, kQuality when a
// check with on_fail: fail does not pass; nothing is published then. The run records `snapshot`,
// the hash of the definitions `source` is from (transform::RecordSnapshot), or "".
//
// With `release` (`sluice landing release`), the crawl looks at those landed keys only, which
// the table holds quarantined or held: each leaves the table and is judged again, under the
// source's current policy and checks, in the same new version.
CrawlReport Crawl(const project::Source& source, const std::string& snapshot, lake::Store& store,
                  meta::Metastore& metastore, engine::Connection& conn,
                  const std::string& trigger = "manual", const std::set<std::string>& release = {});

}  // namespace sluice::catalog
