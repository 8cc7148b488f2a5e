#include "catalog/ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
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

// The key=value folders a path names, in order ("dt=2026-01-01/h=7", "" for none): for a folder
// its own name and its parents', for a file its parents', as Hive and Glue read a path.
std::string PartitionOfPath(const fs::path& path, bool folder) {
  std::vector<std::string> names;
  for (const auto& part : path.lexically_normal()) names.push_back(part.string());
  while (!names.empty() && names.back().empty()) names.pop_back();  // "dt=1/" ends in ""
  if (!folder && !names.empty()) names.pop_back();
  std::vector<std::string> parts;
  for (const auto& n : names) {
    if (n.find('=') != std::string::npos) parts.push_back(n);
  }
  return Join(parts, "/");
}

std::vector<std::string> KeysOf(const std::vector<meta::Column>& columns) {
  std::vector<std::string> keys;
  for (const auto& c : columns) {
    if (c.partition) keys.push_back(c.name);
  }
  return keys;
}

// The partition keys the source's files have, and who says so: the table when it exists, else
// the first file already landed for it; nullopt when there is neither.
std::optional<std::pair<std::vector<std::string>, std::string>> LandedShape(
    const std::string& source, const std::string& prefix, lake::Store& store,
    meta::CatalogStore& catalog) {
  if (auto table = catalog.GetTable("bronze", source); table && !table->format.empty()) {
    return std::pair{KeysOf(table->columns), "bronze." + source};
  }
  for (const auto& obj : lake::ListAll(store, prefix)) {
    std::string fault;
    auto columns = PartitionColumns(PartitionOf(obj.key, prefix), fault);
    if (fault.empty()) {
      return std::pair{KeysOf(columns), fmt::format("the file already landed as {}", obj.key)};
    }
  }
  return std::nullopt;
}

std::string Shape(const std::vector<std::string>& keys) {
  return keys.empty() ? "no partition folders" : "partition folders [" + Join(keys, ", ") + "]";
}
}  // namespace

std::vector<IngestedFile> Ingest(const std::string& source, const std::vector<std::string>& paths,
                                 lake::Store& store, meta::Metastore& metastore) {
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
      std::string partition = PartitionOfPath(path, true);
      if (!partition.empty()) partition += "/";
      for (const auto& [f, rel] : files) {
        plan.push_back({f, prefix + partition + rel.generic_string(), ""});
      }
    } else if (fs::is_regular_file(path, ec)) {
      std::string name = path.filename().string();
      if (name[0] == '.' || name[0] == '_') {
        FailWithCode(
            ErrorKind::kInput, "input.reserved_name",
            "{}: names starting with '.' or '_' are kept for Sluice's own files and would never "
            "be crawled\n  hint: give the file another name",
            p);
      }
      std::string partition = PartitionOfPath(path, false);
      plan.push_back({path, prefix + (partition.empty() ? "" : partition + "/") + name, ""});
    } else if (fs::exists(fs::symlink_status(path, ec))) {
      FailWithCode(ErrorKind::kInput, "input.not_regular_file",
                   "{}: not a regular file (a link to nothing, a pipe, socket or device)", p);
    } else {
      FailWithCode(ErrorKind::kInput, "input.not_found", "{}: no such file or folder", p);
    }
  }
  // Check everything before landing anything.
  std::optional<std::pair<std::vector<std::string>, std::string>> shape;
  std::map<std::string, const Planned*> by_key;
  for (auto& item : plan) {
    if (size_t at = ControlCharacterAt(item.key); at != std::string::npos) {
      FailWithCode(ErrorKind::kInput, "input.control_character",
                   "{}: the name holds a control character ({}); a landing key must be printable"
                   "\n  hint: rename the file or folder",
                   Visible(item.local.string()), Visible(item.key.substr(at, 1)));
    }
    // A file lands only in the shape the crawler registers: valid key=value folders, and the
    // same partition keys (in the same order) as the source's other files.
    std::string fault;
    auto keys = KeysOf(PartitionColumns(PartitionOf(item.key, prefix), fault));
    if (!fault.empty()) {
      FailWithCode(ErrorKind::kInput, "input.bad_partition",
                   "{}: would land as {}, which the crawler would quarantine: {}\n  hint: name "
                   "each partition folder key=value, with each key once",
                   item.local.string(), item.key, fault);
    }
    if (!shape) shape = LandedShape(source, prefix, store, metastore);
    if (!shape) shape = std::pair{keys, item.local.string()};
    if (keys != shape->first) {
      const auto& want = shape->first;
      std::string hint =
          want.empty() ? fmt::format(
                             "{}'s files land without partition folders: land this file for "
                             "another source, or copy it out of its key=value folders",
                             source)
          : keys.empty()
              ? fmt::format(
                    "ingest a folder named {}=VALUE (or a file inside one), e.g. "
                    "path/{}=2026-01-01/",
                    want.front(), want.front())
              : fmt::format("name the partition folders [{}], in that order", Join(want, ", "));
      FailWithCode(ErrorKind::kInput, "input.partition_mismatch",
                   "{}: would land as {} with {}, but {} has {}; the crawler would quarantine it"
                   "\n  hint: {}",
                   item.local.string(), item.key, Shape(keys), shape->second, Shape(want), hint);
    }
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
