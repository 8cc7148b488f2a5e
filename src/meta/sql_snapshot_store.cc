#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "common/time.h"
#include "meta/sql_stores.h"

namespace sluice::meta {

using Statement = SqlCore::Statement;

namespace {

// A manifest holds the project's files byte for byte; PostgreSQL's text holds neither NUL nor
// invalid UTF-8. Such a manifest is stored as base64 after this marker (a manifest itself starts
// with "sluice-definitions"), so every database stores every manifest the same way.
constexpr std::string_view kEncoded = "base64:";

// Whether `s` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates) without NUL.
bool IsText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t more = c >= 0xC2 && c <= 0xDF   ? 1
                  : c >= 0xE0 && c <= 0xEF ? 2
                  : c >= 0xF0 && c <= 0xF4 ? 3
                                           : 0;
    if (more == 0 || i + more >= s.size()) return false;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
    if (byte(i + 1) < low || byte(i + 1) > high) return false;
    for (size_t k = 2; k <= more; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
    }
    i += 1 + more;
  }
  return true;
}

}  // namespace

void SqlSnapshotStore::PutSnapshot(const std::string& hash, const std::string& manifest) {
  auto lock = core_.Lock();
  // Every run stores its snapshot: the usual case, a hash stored already, sends no manifest.
  Statement known(core_, "SELECT 1 FROM snapshots WHERE hash = ?");
  if (known.Bind(1, hash).Step()) return;
  Statement s(core_, "INSERT INTO snapshots (hash, manifest, created_ms) VALUES (?, ?, ?)" +
                         core_.dialect().Upsert("hash", {}));
  s.Bind(1, hash)
      .Bind(2, IsText(manifest) ? manifest : std::string(kEncoded) + Base64(manifest))
      .Bind(3, NowMs())
      .Run();
}

std::optional<std::string> SqlSnapshotStore::GetSnapshot(const std::string& hash) {
  auto lock = core_.Lock();
  Statement s(core_, "SELECT manifest FROM snapshots WHERE hash = ?");
  s.Bind(1, hash);
  if (!s.Step()) return std::nullopt;
  std::string stored = s.Text(0);
  if (!StartsWith(stored, kEncoded)) return stored;
  auto bytes = FromBase64(std::string_view(stored).substr(kEncoded.size()));
  if (!bytes) Fail(ErrorKind::kIo, "metastore: the stored snapshot {} is damaged", hash);
  return bytes;
}

}  // namespace sluice::meta
