#include "catalog/integrity.h"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

Compression CompressionOf(const std::string& key) {
  std::string name = ToLower(key);
  if (EndsWith(name, ".gz")) return Compression::kGzip;
  if (EndsWith(name, ".zst")) return Compression::kZstd;
  return Compression::kNone;
}

namespace {

constexpr size_t kChunk = 1 << 18;

// Feeds the file to `consume(data, size, at_end)` a chunk at a time.
template <typename Consume>
void ReadChunks(const std::string& path, Consume consume) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FailWithCode(ErrorKind::kIo, "io.read", "cannot open {}", path);
  std::vector<char> buffer(kChunk);
  while (true) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    size_t got = static_cast<size_t>(in.gcount());
    if (in.bad()) FailWithCode(ErrorKind::kIo, "io.read", "cannot read {}", path);
    bool at_end = got < buffer.size();
    if (!consume(reinterpret_cast<const unsigned char*>(buffer.data()), got, at_end) || at_end) {
      return;
    }
  }
}

std::string GzipDamage(const std::string& path) {
  z_stream z{};
  // 16 + MAX_WBITS: gzip framing only; inflate checks each member's CRC-32 and length.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) Fail(ErrorKind::kInternal, "zlib: out of memory");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::vector<unsigned char> out(kChunk);
  std::string damage;
  bool in_member = false;  // inside a member that has not ended yet
  uint64_t members = 0;
  ReadChunks(path, [&](const unsigned char* data, size_t size, bool at_end) {
    z.next_in = const_cast<unsigned char*>(data);
    z.avail_in = static_cast<uInt>(size);
    while (z.avail_in > 0) {
      if (!in_member && z.next_in[0] != 0x1f) {
        damage = "the file goes on after its gzip data with bytes that are not gzip";
        return false;
      }
      in_member = true;
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member = false;
        ++members;
        inflateReset(&z);
      } else if (rc == Z_BUF_ERROR && z.avail_out > 0) {
        break;  // needs more input
      } else if (rc != Z_OK) {
        // zlib's message names the fault: "incorrect data check" (CRC-32), "incorrect length
        // check", "invalid block type", ...
        damage = fmt::format("the gzip data is corrupt ({}) after {} bytes of text",
                             z.msg ? z.msg : "error " + std::to_string(rc), z.total_out);
        return false;
      }
    }
    if (at_end && in_member) {
      damage = fmt::format(
          "the file ends inside its gzip data, before the trailer (CRC-32 and length) after {} "
          "bytes of text: it was cut short",
          z.total_out);
    }
    if (at_end && members == 0 && damage.empty()) damage = "the file holds no gzip data";
    return true;
  });
  return damage;
}

std::string ZstdDamage(const std::string& path) {
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> stream(ZSTD_createDStream(),
                                                                  ZSTD_freeDStream);
  if (!stream) Fail(ErrorKind::kInternal, "zstd: out of memory");
  std::vector<unsigned char> out(ZSTD_DStreamOutSize());
  std::string damage;
  size_t pending = 0;  // ZSTD_decompressStream's hint: 0 when a frame just ended
  uint64_t produced = 0;
  bool any = false;
  ReadChunks(path, [&](const unsigned char* data, size_t size, bool at_end) {
    ZSTD_inBuffer in{data, size, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      pending = ZSTD_decompressStream(stream.get(), &o, &in);
      produced += o.pos;
      any = true;
      if (ZSTD_isError(pending)) {
        // zstd names the fault: "Restored data doesn't match checksum", "Unknown frame
        // descriptor", ...
        damage = fmt::format("the zstd data is corrupt ({}) after {} bytes of text",
                             ZSTD_getErrorName(pending), produced);
        return false;
      }
    }
    // A frame may still hold output after its input is consumed.
    while (at_end && pending != 0) {
      ZSTD_inBuffer none{nullptr, 0, 0};
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      size_t before = produced;
      pending = ZSTD_decompressStream(stream.get(), &o, &none);
      produced += o.pos;
      if (ZSTD_isError(pending) || produced == before) break;
    }
    if (at_end && pending != 0) {
      damage = fmt::format(
          "the file ends inside a zstd frame after {} bytes of text: it was cut short", produced);
    }
    if (at_end && !any) damage = "the file holds no zstd data";
    return true;
  });
  return damage;
}

}  // namespace

std::string ParquetDamage(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) FailWithCode(ErrorKind::kIo, "io.read", "cannot open {}", path);
  auto size = static_cast<uint64_t>(in.tellg());
  constexpr uint64_t kFrame = 12;  // "PAR1", then at the end a 4-byte footer length and "PAR1"
  if (size < kFrame) return fmt::format("the file holds {} bytes, too few for Parquet", size);
  char head[4], tail[8];
  in.seekg(0);
  in.read(head, 4);
  in.seekg(static_cast<std::streamoff>(size - 8));
  in.read(tail, 8);
  if (!in) FailWithCode(ErrorKind::kIo, "io.read", "cannot read {}", path);
  if (std::string_view(head, 4) != "PAR1") return "the file does not start as Parquet (PAR1)";
  if (std::string_view(tail + 4, 4) != "PAR1") {
    return "the file does not end with Parquet's footer (PAR1): it was cut short";
  }
  uint32_t footer = static_cast<uint8_t>(tail[0]) | static_cast<uint8_t>(tail[1]) << 8 |
                    static_cast<uint8_t>(tail[2]) << 16 |
                    static_cast<uint32_t>(static_cast<uint8_t>(tail[3])) << 24;
  if (footer > size - kFrame) {
    return fmt::format("its Parquet footer claims {} bytes, more than the file holds", footer);
  }
  return "";
}

std::string CompressedDamage(const std::string& path, Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "";
    case Compression::kGzip:
      return GzipDamage(path);
    case Compression::kZstd:
      return ZstdDamage(path);
  }
  return "";
}

}  // namespace sluice::catalog
