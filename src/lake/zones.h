#pragma once
// The one home of the lake's layout: every key prefix Sluice reads or writes is built here.
//   landing/<source>/...                raw files as they arrived (bronze), never modified
//   staging/<table>/...                 silver tables' files
//   curated/<table>/...                 gold tables' files
//   <db>/<table>/...                    tables of other databases (quarantine/<job>/...)
//   quarantine/landing/<source>/run-N/  damaged landed files moved aside by crawl run N
//   quarantine/landing/<source>/removed-MS/  files `sluice landing remove` took out at MS
// Names starting with '.' or '_' are never objects: backends keep temporaries and staging there.
#include <cstdint>
#include <optional>
#include <string>

namespace sluice::lake::zones {

// "landing/<source>/": where the files of a source land.
std::string LandingPrefix(const std::string& source);
// The source a landed key belongs to ("landing/<source>/..." -> <source>), or nullopt.
std::optional<std::string> SourceOfLanded(const std::string& key);
// The prefix holding the files of table db.name.
std::string TablePrefix(const std::string& db, const std::string& name);
// Where crawl run `run_id` moves the damaged landed file `key` of `source`, keeping its name
// below the source's folder, so that a whole file can land again under the old key.
std::string QuarantinedLandedKey(const std::string& source, int64_t run_id, const std::string& key);
// Where `sluice landing remove` moves the landed file `key` of `source` at `removed_ms`, keeping
// its name below the source's folder, so that the name may land again.
std::string RemovedLandedKey(const std::string& source, int64_t removed_ms, const std::string& key);
// Whether `key` lies where landed files are set aside (quarantine/landing/...): the bytes of
// files crawl quarantined or `landing remove` took out, never a table's files.
bool IsLandedAside(const std::string& key);
// Where an extraction run of the process `owner` stages its file `name` until its commit
// ("_extract/<owner>/<run>/<name>": hidden, so never listed, crawled or seen as an arrival).
std::string ExtractStagingKey(const std::string& owner, const std::string& run,
                              const std::string& name);
// Where an extraction run lands its file `name` for `source` on `date` (YYYY-MM-DD):
// landing/<source>/extracted_at=<date>/<name>, a partition the crawler reads.
std::string ExtractedKey(const std::string& source, const std::string& date,
                         const std::string& name);
// Where an extraction run keeps the key set of `source` it read (`deletes: detect`), named after
// the run ("_extract_state/<source>/keys-<run>.parquet": hidden, never landed).
std::string ExtractKeySetKey(const std::string& source, const std::string& run);
// The folder (under the root of a local lake) where backends stage files before publishing;
// hidden, so never listed.
inline constexpr const char* kScratchFolder = "_scratch";

}  // namespace sluice::lake::zones
