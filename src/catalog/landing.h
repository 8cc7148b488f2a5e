#pragma once
// The landing zone's files and their states (`sluice landing list|release|remove`): what landed
// for each source, whether the crawler registered, held or quarantined it, crawling a held or
// quarantined file again, and taking a wrongly landed file out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/crawler.h"
#include "engine/engine.h"
#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"

namespace sluice::catalog {

struct LandingEntry {
  std::string key;  // the landing key; a damaged file's key where the crawler moved it
  std::string source;
  meta::LandingState state = meta::LandingState::kWaiting;
  uint64_t size = 0;
  int64_t landed_ms = 0;  // 0: unknown (the file was not landed by `sluice ingest`)
  std::string reason;     // why held, quarantined or removed
  std::string removed_by;
  int64_t removed_ms = 0;
  std::string moved_to;  // removed: where its bytes are now
};

// The files landed for `source`: those in its landing zone (waiting, or as bronze.<source>'s
// current version holds them), the table's files that left the zone (damaged files the crawler
// moved), by key; then its removals, oldest first. Only those in `state` when given.
std::vector<LandingEntry> ListLanding(const std::string& source,
                                      std::optional<meta::LandingState> state, lake::Store& store,
                                      meta::Metastore& metastore);

// The source of a landing key a user typed (`landing/<source>/...`, as ListLanding prints it).
// Throws Error(kUsage), code landing.bad_key, for anything else: a control character, an empty,
// "." or ".." part, a key outside landing/.
std::string SourceOfKey(const std::string& key);

// Who runs this process, for records of who did what: the OS user ($USER when the user database
// does not know the uid), or "unknown".
std::string CurrentUser();

struct Removed {
  meta::LandingRemoval removal;
  meta::LandingState was = meta::LandingState::kWaiting;
  int64_t version = 0;  // the version of bronze.<source> without the file; 0: it was not in it
};

// Takes the landed file `key` of `source` out: bronze.<source> gets a version without it (when
// it holds it), its bytes move to quarantine/landing/<source>/removed-<ms>/..., and the removal
// is recorded with `who` and `reason` (meta::LandingRegistry::RecordRemoval), so the same name,
// and the same bytes, may land again. Rows jobs already published from it stay. Throws
// Error(kUsage) landing.unknown_key for a key nothing landed at, landing.bad_reason for an empty
// reason or one with control characters.
Removed RemoveLanded(const std::string& source, const std::string& key, const std::string& reason,
                     const std::string& who, lake::Store& store, meta::Metastore& metastore);

struct Released {
  meta::LandingState was = meta::LandingState::kQuarantined;
  meta::LandingState now = meta::LandingState::kQuarantined;
  std::string reason;  // why it is still kept out ("" when registered)
  CrawlReport report;
};

// Crawls the held or quarantined file `key` of `source` again under the source's current policy
// and checks (Crawl with `release`). Throws Error(kUsage) landing.unknown_key for a key nothing
// landed at, Error(kInput) landing.not_releasable for a file that is waiting, registered, or no
// longer in the landing zone; and what Crawl throws.
Released ReleaseLanded(const project::Source& source, const std::string& key,
                       const std::string& snapshot, lake::Store& store, meta::Metastore& metastore,
                       engine::Connection& conn);

}  // namespace sluice::catalog
