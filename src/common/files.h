#pragma once
// Small filesystem helpers shared by every module. All throw sluice::Error(kIo) naming the path.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path);
// Writes through a temporary file in the same folder and renames it into place, so readers see
// the old content or the new, never a part.
void WriteFileAtomic(const fs::path& path, std::string_view content);
// Hex SHA-256 of a file's bytes / of a string.
std::string Sha256File(const fs::path& path);
std::string Sha256Hex(std::string_view data);
// Standard base64 (RFC 4648, with padding) of `data`.
std::string Base64(std::string_view data);
// The bytes `text` (standard base64, with padding) encodes; nullopt when it is not base64.
std::optional<std::string> FromBase64(std::string_view text);
// A name unique to this process and moment, for temporary files.
std::string UniqueSuffix();

// A folder removed with its contents when this goes out of scope, however the scope ends (best
// effort: a folder that cannot be removed stays). An empty path removes nothing.
struct ScopedFolder {
  explicit ScopedFolder(fs::path p = {}) : path(std::move(p)) {}
  ~ScopedFolder() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
  ScopedFolder(const ScopedFolder&) = delete;
  ScopedFolder& operator=(const ScopedFolder&) = delete;
  fs::path path;
};

}  // namespace sluice
