#pragma once
// meta::LandingRegistry: what each landing key holds (its SHA-256), for ingest's "same bytes
// twice is a no-op". Its own role, not the catalog's: it records the landing zone's bytes, which
// no table version owns (the crawler registers tables from them later).
//
// Contract, for every backend:
// - Each call is one statement, or one transaction (RecordRemoval).
// - FindLanded answers nullopt when the source never landed those bytes.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <optional>
#include <string>
#include <vector>

#include "meta/records.h"

namespace sluice::meta {

class LandingRegistry {
 public:
  virtual ~LandingRegistry() = default;

  // The earliest landed file of `source` with these bytes.
  virtual std::optional<LandedFile> FindLanded(const std::string& source,
                                               const std::string& sha256) = 0;
  // Records what `file.key` holds now, replacing an earlier record of that key: a key the
  // crawler freed (a damaged file it moved out of landing) holds the file landed after it.
  virtual void RecordLanded(const LandedFile& file) = 0;
  // Every landed file recorded for `source`, by key.
  virtual std::vector<LandedFile> ListLanded(const std::string& source) = 0;
  // Records that `removal.file.key` was taken out, in one transaction: the removal joins the
  // history (ListRemovals), the key's landed record goes (so the same name, and the same bytes,
  // may land again), and so do the bookmarks of every job and the arrivals of every workflow on
  // that key (a file landed again under the name is new to them). Removing a key twice records
  // two removals.
  virtual void RecordRemoval(const LandingRemoval& removal) = 0;
  // The removals of `source`, oldest first.
  virtual std::vector<LandingRemoval> ListRemovals(const std::string& source) = 0;
};

}  // namespace sluice::meta
