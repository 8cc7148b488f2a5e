#pragma once
// meta::LandingRegistry: what each landing key holds (its SHA-256), for ingest's "same bytes
// twice is a no-op". Its own role, not the catalog's: it records the landing zone's bytes, which
// no table version owns (the crawler registers tables from them later).
//
// Contract, for every backend:
// - Each call is one statement.
// - FindLanded answers nullopt when the source never landed those bytes.
// - Failures of the database throw Error(kIo).
// - Any thread of any process may call them at any time.
#include <optional>
#include <string>

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
};

}  // namespace sluice::meta
