#pragma once
// The text of CSV files as DuckDB reads it. DuckDB's read_csv reads UTF-8 and Latin-1; a source
// in Windows-1252 or UTF-16 is read from a UTF-8 copy Sluice writes with iconv (the way JSON
// lines with bad lines are read from a copy, json_lines.h). DuckDB's own word on a line too long
// names the wrong line, so the crawler measures lines itself and keeps such a file out with the
// right one.
//
// Lines are numbered from 1 in the file as it landed: the first line is 1 (the header, unless
// skip_lines skips lines before it; skipped lines count too), as the quarantine numbers CSV lines.
// A byte is numbered from 1 within its line, in the bytes as they landed.
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lake/store.h"
#include "meta/metastore.h"
#include "project/project.h"

namespace sluice::catalog {

// Why a file cannot be read as its source says.
struct TextFault {
  int64_t line = 0;    // 1-based
  int64_t byte = 0;    // 1-based within the line; 0 when the line as a whole is at fault
  std::string reason;  // e.g. "invalid Windows-1252 at line 3 byte 7 (0x81)"
};

// True for the encodings DuckDB cannot read, whose files are read from a UTF-8 copy.
bool ReadsCopy(project::CsvEncoding encoding);

// Reads `in`, a file as it landed, line by line as `encoding`; when `out` is given and
// ReadsCopy(encoding), writes it there as UTF-8 (without a byte order mark). Stops at the first
// fault and returns it: a line longer than `max_line_size` bytes (not counting its line break),
// and for copied encodings bytes the encoding has no character for, a missing or contrary UTF-16
// byte order mark, a UTF-16 file of an odd length. UTF-8 and Latin-1 are not decoded: DuckDB reads
// them, and an invalid UTF-8 line is quarantined by the job (LocateInvalidUtf8). Holds at most one
// line and one read buffer in memory. Throws sluice::Error(kIo) when `out` cannot be written.
std::optional<TextFault> CheckText(std::istream& in, project::CsvEncoding encoding,
                                   int64_t max_line_size, std::ostream* out = nullptr);

// Where the UTF-8 text of each of `lines` first goes wrong: line -> the 1-based byte of its first
// invalid UTF-8 sequence. Lines that hold none, or are longer than `max_line_size`, are left out.
// Reads `in` once, up to the last of `lines`.
std::map<int64_t, int64_t> LocateInvalidUtf8(std::istream& in, const std::set<int64_t>& lines,
                                             int64_t max_line_size);

// The reading options a CSV source declares (encoding, max_line_size, null_values, skip_lines,
// date_format, timestamp_format), recorded in its table's dialect (the catalog's options), where
// every reader of the table finds them. An option left unset removes what an earlier crawl
// recorded, except the date formats, which the crawler detects otherwise.
void RecordReadingOptions(const project::Source& source, nlohmann::json& dialect);

// read_csv arguments for the reading options recorded in `dialect` (not the date formats, which
// the dialect's readers pass with the rest of it): encoding, max_line_size, skip and, with
// `null_values`, nullstr. For a table read from UTF-8 copies, no encoding.
std::vector<std::string> ReadingArgs(const nlohmann::json& dialect, bool null_values = true);

// The encoding and the longest line recorded in `dialect`.
project::CsvEncoding EncodingOf(const nlohmann::json& dialect);
int64_t MaxLineSizeOf(const nlohmann::json& dialect);

// UTF-8 copies of landed files, written under a scratch folder of the lake (made on the first
// copy) that is removed when the last lake::Fetched reading a copy lets go.
class Utf8Copies {
 public:
  explicit Utf8Copies(const lake::Store& store) : store_(store) {}

  // Checks the plain (uncompressed) file `key` fetched in `local` (CheckText) and, when
  // ReadsCopy(encoding), substitutes its UTF-8 copy in `local`. Returns the fault, if any (then
  // `local` is unchanged); for a compressed file in a copied encoding, that it must land plain.
  std::optional<TextFault> Prepare(const std::string& key, project::CsvEncoding encoding,
                                   int64_t max_line_size, lake::Fetched& local);

 private:
  const lake::Store& store_;
  std::shared_ptr<const std::string> folder_;  // the scratch folder, held by the copies' readers
};

// Fetches `keys` of `table` into `local` (as lake::Store::Fetch does, adding to what `local`
// holds) and, for a CSV table read from UTF-8 copies, substitutes a copy for each key `local`
// does not read from one yet. Throws sluice::Error(kInput), code input.bad_text, when a file no
// longer reads as its table's encoding.
void FetchForReading(const lake::Store& store, const meta::Table& table,
                     const std::vector<std::string>& keys, lake::Fetched& local);

}  // namespace sluice::catalog
