#include "catalog/ingest.h"

#include <algorithm>
#include <map>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"

namespace sluice::catalog {

namespace {
struct Planned {
  fs::path local;
  std::string key;
  std::string sha256;
};

bool Hidden(const fs::path& rel) {
  for (const auto& part : rel) {
    std::string s = part.string();
    if (!s.empty() && (s[0] == '.' || s[0] == '_')) return true;
  }
  return false;
}
}  // namespace

std::vector<IngestedFile> Ingest(const std::string& source, const std::vector<std::string>& paths,
                                 lake::Store& store, meta::Metastore& metastore) {
  const std::string prefix = LandingPrefix(source);
  std::vector<Planned> plan;
  for (const auto& p : paths) {
    fs::path path(p);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(path, ec)) {
        if (e.is_regular_file() && !Hidden(fs::relative(e.path(), path))) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) Fail(ErrorKind::kInput, "{}: the folder holds no files to ingest", p);
      for (const auto& f : files) {
        plan.push_back({f, prefix + fs::relative(f, path).generic_string(), ""});
      }
    } else if (fs::is_regular_file(path, ec)) {
      std::string name = path.filename().string();
      if (name[0] == '.' || name[0] == '_') {
        Fail(ErrorKind::kInput,
             "{}: names starting with '.' or '_' are kept for Sluice's own files and would never "
             "be crawled\n  hint: give the file another name",
             p);
      }
      plan.push_back({path, prefix + name, ""});
    } else {
      Fail(ErrorKind::kInput, "{}: no such file or folder", p);
    }
  }
  // Check everything before landing anything.
  std::map<std::string, const Planned*> by_key;
  for (auto& item : plan) {
    if (char c = PatternCharacter(item.key)) {
      Fail(ErrorKind::kInput,
           "{}: the name holds '{}', which DuckDB reads as a file pattern, so the file could not "
           "be read as itself\n  hint: rename the file without *, ? or [",
           item.local.string(), c);
    }
    item.sha256 = Sha256File(item.local);
    auto [first, fresh] = by_key.emplace(item.key, &item);
    if (!fresh && first->second->sha256 != item.sha256) {
      Fail(ErrorKind::kInput,
           "{} and {} would both land as {}, with different content; landed files are never "
           "replaced\n  hint: ingest them under different names",
           first->second->local.string(), item.local.string(), store.Uri(item.key));
    }
    if (auto existing = store.Stat(item.key)) {
      auto landed = metastore.FindLanded(source, item.sha256);
      bool same = landed ? landed->key == item.key : Sha256Hex(store.Get(item.key)) == item.sha256;
      if (!same) {
        Fail(ErrorKind::kInput,
             "{}: a different file already landed as {}; landed files are never replaced\n"
             "  hint: give the new file another name (e.g. with a date or a sequence number)",
             item.local.string(), store.Uri(item.key));
      }
    }
  }
  std::vector<IngestedFile> out;
  for (const auto& item : plan) {
    if (auto landed = metastore.FindLanded(source, item.sha256)) {
      out.push_back({item.local.string(), landed->key, "duplicate"});
      continue;
    }
    bool wrote = store.PutFileIfAbsent(item.key, item.local);
    uint64_t size = fs::file_size(item.local);
    metastore.RecordLanded({source, item.key, item.sha256, size, NowMs()});
    out.push_back({item.local.string(), item.key, wrote ? "landed" : "duplicate"});
  }
  return out;
}

}  // namespace sluice::catalog
