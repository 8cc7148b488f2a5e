#pragma once
// The definition files of a project: every file the loader reads (sluice.yaml, sources/, jobs/,
// models/, workflows/ and the rule files checks name), as project-relative path -> bytes. The
// loader reads only through a DefinitionReader, so one loader builds a project from a folder or
// from a stored manifest, and what it read is the snapshot's content (project/snapshot.h).
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"

namespace sluice::project {

// The most files, and bytes in all, one project's definitions may hold: more is a config error
// with code config.too_many_definitions.
inline constexpr size_t kMaxDefinitionFiles = 10000;
inline constexpr size_t kMaxDefinitionBytes = size_t{64} << 20;

// An immutable value: paths are project-relative with '/' separators, never absolute, never with
// a `.` or `..` part.
class DefinitionFiles {
 public:
  DefinitionFiles() = default;

  // Parses a manifest written by Manifest(). Throws Error(kConfig), code snapshot.bad_manifest,
  // on anything else: a wrong header, a length that runs past the end, a path that is absolute,
  // holds `..` or `.`, or comes twice or out of order, more than kMaxDefinitionFiles files or
  // kMaxDefinitionBytes bytes.
  static DefinitionFiles FromManifest(std::string_view manifest);

  const std::map<std::string, std::string>& files() const { return files_; }
  // The bytes of `path`; null when the set does not hold it.
  const std::string* Find(const std::string& path) const;

  // The canonical encoding: a header line, then for each file in path order its path and its
  // bytes, each as a netstring (`<decimal length>:<bytes>,`). Length prefixes make it
  // unambiguous: two different sets never encode alike.
  std::string Manifest() const;
  // Hex SHA-256 of Manifest(): equal for equal files wherever the folder lives.
  std::string Hash() const;

 private:
  friend class DefinitionReader;
  std::map<std::string, std::string> files_;
};

// The door of the loader to the definition files: a folder, or a DefinitionFiles (a stored
// manifest). It keeps every file it reads; files() is then exactly what the loaded project was
// built from. Not thread-safe: one loader uses one reader.
class DefinitionReader {
 public:
  // Reads the project folder `root`.
  explicit DefinitionReader(fs::path root);
  // Reads only `files` (shared, not copied); `root` is still the folder settings' relative paths
  // (lake, metastore) and `file` notification channels resolve against.
  DefinitionReader(fs::path root, std::shared_ptr<const DefinitionFiles> files);

  const fs::path& root() const { return root_; }

  // The files under folder `dir` (and its subfolders) whose names end in one of `extensions`,
  // sorted, as project-relative paths. A folder that does not exist has none. Throws
  // Error(kConfig), code config.too_many_definitions, past kMaxDefinitionFiles.
  std::vector<std::string> List(const std::string& dir, const std::vector<std::string>& extensions);
  // Whether `path` names something (a folder: anything there; stored: a file of the set).
  bool Exists(const std::string& path) const;
  // Whether `path` stays inside the project once `..` (and, for a folder, symlinks) resolve.
  bool Inside(const std::string& path) const;
  // The bytes of `path`, kept for files(). Throws Error(kConfig) as ReadProjectFile does (code
  // config.unreadable_file, saying what the path is instead of a file, and "a link leading out
  // of the project" for a symlink that does), config.missing_file when a stored set lacks it, and
  // config.too_many_definitions past the bounds.
  const std::string& Read(const std::string& path);

  // Every file read so far.
  const DefinitionFiles& files() const { return read_; }

 private:
  fs::path root_;
  std::shared_ptr<const DefinitionFiles> stored_;
  DefinitionFiles read_;
  size_t bytes_ = 0;
};

// `path` with `.` parts dropped and '/' separators ("./checks//a.dqdl" -> "checks/a.dqdl").
std::string DefinitionPath(const std::string& path);

}  // namespace sluice::project
