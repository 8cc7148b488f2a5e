#pragma once
// Whole-file checks of compressed landed files. DuckDB reads a truncated .gz file up to where it
// breaks off, and a truncated .zst file as no rows, without an error: a damaged file would pass
// for a short one. These checks read the whole file, the only way to verify a checksum.
#include <string>

namespace sluice::catalog {

enum class Compression { kNone, kGzip, kZstd };

// How DuckDB reads the file at `key` (compression = 'auto': by its extension).
Compression CompressionOf(const std::string& key);

// Why the compressed file at `path` is damaged, or "" when it is whole: for gzip, every member
// inflates to its end and matches its trailer's CRC-32 and length; for zstd, every frame decodes
// to its end and matches its content checksum and content size where the frame has them. Bytes
// after the last member or frame are damage too. Throws sluice::Error(kIo) when the file cannot
// be read at all.
std::string CompressedDamage(const std::string& path, Compression compression);

// Why the Parquet file at `path` is damaged, or "" when its frame is whole: "PAR1" at both ends
// and a footer length that fits the file. A file cut short loses its footer, so DuckDB cannot
// read it at all; this tells that from other faults by reading 8 bytes at each end.
std::string ParquetDamage(const std::string& path);

}  // namespace sluice::catalog
