#include "catalog/ingest.h"

#include <algorithm>
#include <map>
#include <set>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "lake/zones.h"

namespace sluice::catalog {

namespace {
struct Planned {
  fs::path local;
  std::string key;
  std::string sha256;
};

bool Hidden(const std::string& name) { return !name.empty() && (name[0] == '.' || name[0] == '_'); }

// The files under `dir`, following symbolic links as ingesting a link by its own name does: a
// link to a file lands the file's bytes under the link's name, a link to a folder is walked
// (once: a link back up the tree is not walked again). Hidden names are skipped; a link to
// nothing, or anything that is neither a file nor a folder, is an error naming it.
void FilesUnder(const fs::path& dir, const fs::path& rel_dir, std::set<fs::path>& walked,
                std::vector<std::pair<fs::path, fs::path>>& out) {
  std::error_code ec;
  if (!walked.insert(fs::canonical(dir, ec)).second) return;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e.path());
  if (ec)
    FailWithCode(ErrorKind::kInput, "input.unreadable", "{}: cannot list the folder: {}",
                 dir.string(), ec.message());
  std::sort(entries.begin(), entries.end());
  for (const auto& path : entries) {
    std::string name = path.filename().string();
    if (Hidden(name)) continue;
    fs::path rel = rel_dir / name;
    auto status = fs::status(path, ec);  // follows links
    if (fs::is_directory(status)) {
      FilesUnder(path, rel, walked, out);
    } else if (fs::is_regular_file(status)) {
      out.emplace_back(path, rel);
    } else if (fs::is_symlink(fs::symlink_status(path, ec))) {
      FailWithCode(ErrorKind::kInput, "input.not_regular_file",
                   "{}: a symbolic link to nothing ({})\n  hint: remove it or fix it",
                   path.string(), fs::read_symlink(path, ec).string());
    } else {
      FailWithCode(
          ErrorKind::kInput, "input.not_regular_file",
          "{}: not a regular file (a pipe, socket or device); ingest lands files\n  hint: move "
          "it out of the folder",
          path.string());
    }
  }
}
}  // namespace

std::vector<IngestedFile> Ingest(const std::string& source, const std::vector<std::string>& paths,
                                 lake::Store& store, meta::LandingRegistry& metastore) {
  const std::string prefix = lake::zones::LandingPrefix(source);
  std::vector<Planned> plan;
  for (const auto& p : paths) {
    fs::path path(p);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::pair<fs::path, fs::path>> files;  // path, path relative to the folder
      std::set<fs::path> walked;
      FilesUnder(path, "", walked, files);
      if (files.empty())
        FailWithCode(ErrorKind::kInput, "input.empty_folder",
                     "{}: the folder holds no files to ingest", p);
      for (const auto& [f, rel] : files) plan.push_back({f, prefix + rel.generic_string(), ""});
    } else if (fs::is_regular_file(path, ec)) {
      std::string name = path.filename().string();
      if (name[0] == '.' || name[0] == '_') {
        FailWithCode(
            ErrorKind::kInput, "input.reserved_name",
            "{}: names starting with '.' or '_' are kept for Sluice's own files and would never "
            "be crawled\n  hint: give the file another name",
            p);
      }
      plan.push_back({path, prefix + name, ""});
    } else if (fs::exists(fs::symlink_status(path, ec))) {
      FailWithCode(ErrorKind::kInput, "input.not_regular_file",
                   "{}: not a regular file (a link to nothing, a pipe, socket or device)", p);
    } else {
      FailWithCode(ErrorKind::kInput, "input.not_found", "{}: no such file or folder", p);
    }
  }
  // Check everything before landing anything.
  std::map<std::string, const Planned*> by_key;
  for (auto& item : plan) {
    if (char c = PatternCharacter(item.key)) {
      FailWithCode(
          ErrorKind::kInput, "input.pattern_name",
          "{}: the name holds '{}', which DuckDB reads as a file pattern, so the file could not "
          "be read as itself\n  hint: rename the file without *, ? or [",
          item.local.string(), c);
    }
    item.sha256 = Sha256File(item.local);
    auto [first, fresh] = by_key.emplace(item.key, &item);
    if (!fresh && first->second->sha256 != item.sha256) {
      FailWithCode(
          ErrorKind::kInput, "input.already_landed",
          "{} and {} would both land as {}, with different content; landed files are never "
          "replaced\n  hint: ingest them under different names",
          first->second->local.string(), item.local.string(), store.Uri(item.key));
    }
    if (auto existing = store.Stat(item.key)) {
      auto landed = metastore.FindLanded(source, item.sha256);
      bool same = landed ? landed->key == item.key
                         : Sha256Hex(store.Get(item.key).value_or("")) == item.sha256;
      if (!same) {
        FailWithCode(
            ErrorKind::kInput, "input.already_landed",
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
