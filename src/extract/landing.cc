#include "extract/landing.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "catalog/extracted.h"
#include "common/error.h"
#include "common/interrupt.h"
#include "common/one_line.h"
#include "common/process.h"
#include "common/redact.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/zones.h"

namespace sluice::extract {

void SyncFiles(const std::vector<fs::path>& files) {
  for (const auto& f : files) {
    int fd = open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fdatasync(fd) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      Fail(ErrorKind::kIo, "cannot flush {} to disk: {}", f.string(), strerror(e));
    }
    close(fd);
  }
}

Landed Land(lake::Store& store, meta::Metastore& metastore, const std::string& source,
            const std::string& run_tag, const Pulled& pulled, int64_t base_version) {
  // The UTC date of now: the extracted_at partition of the run's files.
  const std::string date = Rfc3339(NowMs()).substr(0, 10);
  std::vector<meta::ExtractFile> records;
  for (size_t i = 0; i < pulled.files.size(); ++i) {
    meta::ExtractFile f;
    f.source = source;
    f.staging_key = lake::zones::ExtractStagingKey(ProcessOwner(), run_tag,
                                                   pulled.files[i].filename().string());
    f.landing_key = lake::zones::ExtractedKey(
        source, date, fmt::format("{}-{}-{:05}.{}", source, run_tag, i, pulled.extension));
    f.sha256 = Sha256File(pulled.files[i]);
    f.size = fs::file_size(pulled.files[i]);
    f.owner = ProcessOwner();
    records.push_back(f);
  }
  std::vector<std::string> staged, state_keys;
  try {
    metastore.StageExtractFiles(records);
    for (size_t i = 0; i < pulled.files.size(); ++i) {
      staged.push_back(records[i].staging_key);
      store.PutFile(records[i].staging_key, pulled.files[i]);
    }
    for (const auto& [key, file] : pulled.state_files) {
      state_keys.push_back(key);
      store.PutFile(key, file);
    }
    if (Interrupted()) Fail(ErrorKind::kInterrupted, "extraction interrupted");
    meta::ExtractCommit commit;
    commit.source = source;
    commit.base_version = base_version;
    commit.state = pulled.state;
    commit.staging_keys = staged;
    commit.committed_ms = NowMs();
    metastore.CommitExtract(commit);
  } catch (...) {
    // Nothing of the run lands (a crash leaves its staged files to FinishExtractFiles).
    for (const auto& key : staged) {
      try {
        store.Delete(key);
        metastore.DropExtractFile(key);
      } catch (const std::exception&) {
      }
    }
    for (const auto& key : state_keys) {
      try {
        store.Delete(key);
      } catch (const std::exception&) {
      }
    }
    throw;
  }
  Landed landed;
  for (const auto& f : records) landed.keys.push_back(f.landing_key);
  for (const auto& key : pulled.obsolete) {
    try {
      store.Delete(key);
    } catch (const std::exception&) {
    }
  }
  // The run succeeded at the commit: a file that cannot be moved now is moved by the next
  // command (FinishExtractFiles again), and said so.
  try {
    catalog::FinishExtractFiles(store, metastore, source);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInterrupted) throw;
    landed.moving_later = Redact(OneLine(e.what()));
  }
  return landed;
}

}  // namespace sluice::extract
