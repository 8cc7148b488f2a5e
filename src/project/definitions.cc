#include "project/definitions.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "common/error.h"
#include "project/reader.h"

namespace sluice::project {

namespace {

constexpr std::string_view kManifestHeader = "sluice-definitions 1\n";

void AppendNetstring(std::string& out, std::string_view bytes) {
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
  out += ',';
}

[[noreturn]] void BadManifest(std::string_view what) {
  FailWithCode(ErrorKind::kConfig, "snapshot.bad_manifest", "stored definitions: {}", what);
}

// Reads one netstring at `at`, advancing it.
std::string_view ReadNetstring(std::string_view text, size_t& at) {
  size_t length = 0, digits = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    if (++digits > 12) BadManifest("a length too long");
    length = length * 10 + static_cast<size_t>(text[at++] - '0');
  }
  if (digits == 0 || at >= text.size() || text[at] != ':') BadManifest("a length expected");
  ++at;
  if (length > text.size() - at || text.size() - at - length < 1 || text[at + length] != ',') {
    BadManifest("an entry runs past the end");
  }
  std::string_view out = text.substr(at, length);
  at += length + 1;
  return out;
}

// Whether `path` is a canonical project-relative path: no leading '/', no empty, `.` or `..`
// part, no NUL.
bool CanonicalPath(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view part = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

[[noreturn]] void TooMany(size_t files, size_t bytes) {
  FailWithCode(ErrorKind::kConfig, "config.too_many_definitions",
               "the project's definitions hold {} files and {} bytes, over the limit of {} files "
               "and {} MiB",
               files, bytes, kMaxDefinitionFiles, kMaxDefinitionBytes >> 20);
}

}  // namespace

std::string DefinitionPath(const std::string& path) {
  std::string out = fs::path(path).lexically_normal().generic_string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

DefinitionFiles DefinitionFiles::FromManifest(std::string_view manifest) {
  if (manifest.substr(0, kManifestHeader.size()) != kManifestHeader) BadManifest("no header");
  DefinitionFiles out;
  size_t at = kManifestHeader.size(), bytes = 0;
  while (at < manifest.size()) {
    std::string path(ReadNetstring(manifest, at));
    std::string_view content = ReadNetstring(manifest, at);
    if (!CanonicalPath(path)) BadManifest(fmt::format("path '{}' is not inside the project", path));
    if (!out.files_.empty() && out.files_.rbegin()->first >= path) {
      BadManifest(fmt::format("path '{}' repeated or out of order", path));
    }
    bytes += content.size();
    if (out.files_.size() + 1 > kMaxDefinitionFiles || bytes > kMaxDefinitionBytes) {
      TooMany(out.files_.size() + 1, bytes);
    }
    out.files_.emplace_hint(out.files_.end(), std::move(path), std::string(content));
  }
  return out;
}

const std::string* DefinitionFiles::Find(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::string DefinitionFiles::Manifest() const {
  std::string out(kManifestHeader);
  for (const auto& [path, bytes] : files_) {
    AppendNetstring(out, path);
    AppendNetstring(out, bytes);
  }
  return out;
}

std::string DefinitionFiles::Hash() const { return Sha256Hex(Manifest()); }

DefinitionReader::DefinitionReader(fs::path root) : root_(std::move(root)) {}

DefinitionReader::DefinitionReader(fs::path root, std::shared_ptr<const DefinitionFiles> files)
    : root_(std::move(root)), stored_(std::move(files)) {}

std::vector<std::string> DefinitionReader::List(const std::string& dir,
                                                const std::vector<std::string>& extensions) {
  std::vector<std::string> out;
  auto wanted = [&](const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
  };
  if (stored_) {
    std::string prefix = dir + "/";
    for (const auto& [path, bytes] : stored_->files()) {
      if (path.compare(0, prefix.size(), prefix) == 0 && wanted(path)) out.push_back(path);
    }
    return out;
  }
  std::error_code ec;
  if (!fs::is_directory(root_ / dir, ec)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / dir, ec)) {
    if (!entry.is_regular_file()) continue;
    // Lexically: a symlink keeps the name it has in the project (Read refuses one leading out).
    std::string rel = entry.path().lexically_relative(root_).generic_string();
    if (!wanted(rel)) continue;
    if (out.size() + 1 > kMaxDefinitionFiles) TooMany(out.size() + 1, bytes_);
    out.push_back(std::move(rel));
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool DefinitionReader::Exists(const std::string& path) const {
  if (stored_) return stored_->Find(DefinitionPath(path)) != nullptr;
  std::error_code ec;
  return fs::exists(root_ / path, ec);
}

bool DefinitionReader::Inside(const std::string& path) const {
  if (stored_) {
    fs::path p(path);
    return !p.is_absolute() && CanonicalPath(DefinitionPath(path));
  }
  return InsideProject(root_, path);
}

const std::string& DefinitionReader::Read(const std::string& path) {
  std::string key = DefinitionPath(path);
  if (const std::string* known = read_.Find(key)) return *known;
  std::string bytes;
  if (stored_) {
    const std::string* stored = stored_->Find(key);
    if (!stored) {
      FailWithCode(ErrorKind::kConfig, "config.missing_file", "not in the stored definitions");
    }
    bytes = *stored;
  } else {
    if (!InsideProject(root_, key)) {
      FailWithCode(ErrorKind::kConfig, "config.unreadable_file",
                   "a link leading out of the project");
    }
    bytes = ReadProjectFile(root_ / key);
  }
  if (read_.files_.size() + 1 > kMaxDefinitionFiles ||
      bytes_ + bytes.size() > kMaxDefinitionBytes) {
    TooMany(read_.files_.size() + 1, bytes_ + bytes.size());
  }
  bytes_ += bytes.size();
  return read_.files_.emplace(std::move(key), std::move(bytes)).first->second;
}

}  // namespace sluice::project
