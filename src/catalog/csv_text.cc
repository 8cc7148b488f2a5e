#include "catalog/csv_text.h"

#include <fmt/format.h>
#include <iconv.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <system_error>

#include "catalog/integrity.h"
#include "common/error.h"
#include "common/strings.h"

namespace sluice::catalog {

namespace fs = std::filesystem;
using nlohmann::json;
using project::CsvEncoding;

namespace {

constexpr size_t kReadSize = size_t{1} << 20;

// How the lines of a file are told apart: by a 1-byte '\n', or by a 2-byte UTF-16 one.
struct LineBreak {
  size_t unit = 1;
  bool big_endian = false;
  bool At(const char* p) const {
    if (unit == 1) return *p == '\n';
    return big_endian ? p[0] == '\0' && p[1] == '\n' : p[0] == '\n' && p[1] == '\0';
  }
};

// Calls `each` with every line of `in` (its 1-based number and its bytes, without the line break
// and the carriage return before it) until `each` returns false. A line longer than `max_line`
// bytes is not passed: its number is returned then. Lines are split at whole units; the bytes of
// an odd tail (UTF-16) end the last line.
std::optional<int64_t> ForEachLine(std::istream& in, LineBreak br, int64_t max_line,
                                   const std::function<bool(int64_t, std::string_view)>& each) {
  std::string pending;
  size_t start = 0, scan = 0;  // the current line starts at `start`; breaks before `scan` are seen
  int64_t number = 1;
  std::vector<char> chunk(kReadSize);
  auto emit = [&](size_t end) -> std::optional<bool> {
    size_t len = end - start;
    size_t cr = br.unit;  // a carriage return before the break is no part of the line
    if (len >= cr &&
        (br.unit == 1 ? pending[end - 1] == '\r'
                      : (br.big_endian ? pending[end - 2] == '\0' && pending[end - 1] == '\r'
                                       : pending[end - 2] == '\r' && pending[end - 1] == '\0'))) {
      len -= cr;
    }
    if (static_cast<int64_t>(len) > max_line) return std::nullopt;
    return each(number, std::string_view(pending).substr(start, len));
  };
  for (bool eof = false; !eof;) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    size_t got = static_cast<size_t>(in.gcount());
    eof = got < chunk.size();
    if (start > 0) {
      pending.erase(0, start);
      scan -= start;
      start = 0;
    }
    pending.append(chunk.data(), got);
    for (; scan + br.unit <= pending.size(); scan += br.unit) {
      if (!br.At(pending.data() + scan)) continue;
      auto more = emit(scan);
      if (!more) return number;
      if (!*more) return std::nullopt;
      ++number;
      start = scan + br.unit;
    }
    // The line so far (a carriage return and a break's first byte may still follow).
    if (static_cast<int64_t>(pending.size() - start) > max_line + 2 * static_cast<int64_t>(br.unit))
      return number;
  }
  if (start < pending.size()) {
    auto more = emit(pending.size());
    if (!more) return number;
  }
  return std::nullopt;
}

const char* NameOf(CsvEncoding encoding) {
  switch (encoding) {
    case CsvEncoding::kWindows1252:
      return "Windows-1252";
    case CsvEncoding::kUtf16:
    case CsvEncoding::kUtf16Le:
    case CsvEncoding::kUtf16Be:
      return "UTF-16";
    case CsvEncoding::kLatin1:
      return "Latin-1";
    case CsvEncoding::kUtf8:
      break;
  }
  return "UTF-8";
}

// One iconv conversion descriptor to UTF-8, closed with this object.
class Converter {
 public:
  explicit Converter(const char* from) : cd_(iconv_open("UTF-8", from)) {
    if (cd_ == reinterpret_cast<iconv_t>(-1)) {
      Fail(ErrorKind::kInternal, "iconv cannot convert {} to UTF-8: {}", from,
           std::strerror(errno));
    }
  }
  ~Converter() { iconv_close(cd_); }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;

  // Converts `line` into `out` (replacing it); the offset of the first byte it cannot convert
  // otherwise, with `cut` when the line ends inside a character.
  std::optional<size_t> Convert(std::string_view line, std::string& out, bool& cut) {
    out.resize(line.size() * 3 + 4);
    char* in = const_cast<char*>(line.data());
    size_t in_left = line.size();
    char* o = out.data();
    size_t o_left = out.size();
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // a fresh state for every line
    if (iconv(cd_, &in, &in_left, &o, &o_left) == static_cast<size_t>(-1)) {
      cut = errno == EINVAL;
      return line.size() - in_left;
    }
    out.resize(out.size() - o_left);
    return std::nullopt;
  }

 private:
  iconv_t cd_;
};

// The length of the valid UTF-8 sequence at `p` (of `n` bytes left), or 0: no overlong form, no
// surrogate, nothing past U+10FFFF.
size_t Utf8SequenceAt(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
  if (len == 0 || len > n) return 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c == 0xe0) lo = 0xa0;
  if (c == 0xed) hi = 0x9f;
  if (c == 0xf0) lo = 0x90;
  if (c == 0xf4) hi = 0x8f;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  }
  return len;
}

}  // namespace

bool ReadsCopy(CsvEncoding encoding) {
  return encoding != CsvEncoding::kUtf8 && encoding != CsvEncoding::kLatin1;
}

std::optional<TextFault> CheckText(std::istream& in, CsvEncoding encoding, int64_t max_line_size,
                                   std::ostream* out) {
  LineBreak br;
  std::optional<Converter> converter;
  if (encoding == CsvEncoding::kUtf16 || encoding == CsvEncoding::kUtf16Le ||
      encoding == CsvEncoding::kUtf16Be) {
    br.unit = 2;
    char bom[2] = {0, 0};
    in.read(bom, 2);
    std::optional<bool> marked;  // big endian, by the byte order mark
    if (in.gcount() == 2 && bom[0] == '\xff' && bom[1] == '\xfe') marked = false;
    if (in.gcount() == 2 && bom[0] == '\xfe' && bom[1] == '\xff') marked = true;
    if (!marked) {
      if (encoding == CsvEncoding::kUtf16) {
        return TextFault{1, 1,
                         "no UTF-16 byte order mark (FF FE or FE FF) at the start of the file: "
                         "encoding utf-16 needs one; declare utf-16le or utf-16be for a file "
                         "without it"};
      }
      in.clear();
      in.seekg(0);
    }
    br.big_endian = encoding == CsvEncoding::kUtf16Be || (marked && *marked);
    if (marked && encoding != CsvEncoding::kUtf16 &&
        *marked != (encoding == CsvEncoding::kUtf16Be)) {
      return TextFault{1, 1,
                       fmt::format("the file's byte order mark says {} but the source says {}",
                                   *marked ? "utf-16be" : "utf-16le", ToString(encoding))};
    }
    converter.emplace(br.big_endian ? "UTF-16BE" : "UTF-16LE");
  } else if (encoding == CsvEncoding::kWindows1252) {
    converter.emplace("WINDOWS-1252");
  }
  if (!ReadsCopy(encoding)) out = nullptr;
  std::optional<TextFault> fault;
  std::string utf8;
  auto too_long = ForEachLine(in, br, max_line_size, [&](int64_t line, std::string_view bytes) {
    if (!converter) return true;
    bool cut = false;
    if (auto at = converter->Convert(bytes, utf8, cut)) {
      fault =
          TextFault{line, static_cast<int64_t>(*at) + 1,
                    fmt::format("invalid {} at line {} byte {}", NameOf(encoding), line, *at + 1)};
      if (br.unit == 2 && bytes.size() % 2 == 1 && *at + 1 == bytes.size()) {
        fault->reason += ": the file ends inside a character (it holds an odd number of bytes)";
      } else if (br.unit == 1) {
        fault->reason +=
            fmt::format(" (0x{:02x} has no character)", static_cast<unsigned char>(bytes[*at]));
      } else if (cut) {
        fault->reason += ": the line ends inside a surrogate pair";
      } else {
        fault->reason += ": an unpaired surrogate";
      }
      return false;
    }
    if (out) {
      out->write(utf8.data(), static_cast<std::streamsize>(utf8.size()));
      out->put('\n');
      if (!*out) Fail(ErrorKind::kIo, "cannot write a UTF-8 copy: {}", std::strerror(errno));
    }
    return true;
  });
  if (too_long) {
    return TextFault{
        *too_long, 0,
        fmt::format("line {} is longer than max_line_size ({} bytes)", *too_long, max_line_size)};
  }
  return fault;
}

std::map<int64_t, int64_t> LocateInvalidUtf8(std::istream& in, const std::set<int64_t>& lines,
                                             int64_t max_line_size) {
  std::map<int64_t, int64_t> out;
  if (lines.empty()) return out;
  ForEachLine(in, LineBreak{}, max_line_size, [&](int64_t line, std::string_view bytes) {
    if (lines.count(line)) {
      const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
      for (size_t i = 0; i < bytes.size();) {
        size_t len = Utf8SequenceAt(p + i, bytes.size() - i);
        if (len == 0) {
          out[line] = static_cast<int64_t>(i) + 1;
          break;
        }
        i += len;
      }
    }
    return line < *lines.rbegin();
  });
  return out;
}

void RecordReadingOptions(const project::Source& source, json& dialect) {
  auto set_or_erase = [&](const char* key, bool set, json value) {
    if (set) {
      dialect[key] = std::move(value);
    } else {
      dialect.erase(key);
    }
  };
  set_or_erase("encoding", source.encoding != CsvEncoding::kUtf8, ToString(source.encoding));
  set_or_erase("max_line_size", source.max_line_size != project::kDefaultMaxLineSize,
               source.max_line_size);
  set_or_erase("nullstr", !source.null_values.empty(), source.null_values);
  set_or_erase("skip", source.skip_lines > 0, source.skip_lines);
  if (!source.date_format.empty()) dialect["dateformat"] = source.date_format;
  if (!source.timestamp_format.empty()) dialect["timestampformat"] = source.timestamp_format;
}

CsvEncoding EncodingOf(const json& dialect) {
  if (!dialect.is_object() || !dialect.contains("encoding") || !dialect["encoding"].is_string()) {
    return CsvEncoding::kUtf8;
  }
  return project::ParseCsvEncoding(dialect["encoding"].get<std::string>())
      .value_or(CsvEncoding::kUtf8);
}

int64_t MaxLineSizeOf(const json& dialect) {
  if (!dialect.is_object() || !dialect.contains("max_line_size") ||
      !dialect["max_line_size"].is_number_integer()) {
    return project::kDefaultMaxLineSize;
  }
  return dialect["max_line_size"].get<int64_t>();
}

std::vector<std::string> ReadingArgs(const json& dialect, bool null_values) {
  std::vector<std::string> args;
  CsvEncoding encoding = EncodingOf(dialect);
  if (encoding == CsvEncoding::kLatin1) args.push_back("encoding = 'latin-1'");
  // Sluice measures lines as they landed, without their line break; DuckDB measures what it
  // reads, with it: a UTF-8 line of n bytes landed as at most 3n, and a break is 2 bytes at most.
  int64_t limit = MaxLineSizeOf(dialect);
  if (encoding != CsvEncoding::kUtf8) limit *= 3;
  args.push_back(fmt::format("max_line_size = {}", limit + 2));
  if (dialect.is_object() && dialect.contains("skip") && dialect["skip"].is_number_integer()) {
    args.push_back(fmt::format("skip = {}", dialect["skip"].get<int64_t>()));
  }
  if (null_values && dialect.is_object() && dialect.contains("nullstr") &&
      dialect["nullstr"].is_array()) {
    std::vector<std::string> texts;
    for (const auto& v : dialect["nullstr"]) {
      if (v.is_string()) texts.push_back(v.get<std::string>());
    }
    if (!texts.empty()) args.push_back("nullstr = " + SqlStringList(texts));
  }
  return args;
}

std::optional<TextFault> Utf8Copies::Prepare(const std::string& key, CsvEncoding encoding,
                                             int64_t max_line_size, lake::Fetched& local) {
  if (CompressionOf(key) != Compression::kNone) {
    if (!ReadsCopy(encoding)) return std::nullopt;  // DuckDB measures its lines itself
    return TextFault{0, 0,
                     fmt::format("encoding {} is read from plain files only: land the file "
                                 "uncompressed",
                                 ToString(encoding))};
  }
  std::ifstream in(local.Path(key), std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, "cannot read {}: {}", local.Path(key), std::strerror(errno));
  if (!ReadsCopy(encoding)) return CheckText(in, encoding, max_line_size);
  if (!folder_) {
    folder_ = std::shared_ptr<const std::string>(
        new std::string(store_.ScratchDir().string() + "/"), [](const std::string* folder) {
          std::error_code ignored;
          fs::remove_all(*folder, ignored);
          delete folder;
        });
  }
  fs::path copy = fs::path(*folder_) / key;
  std::error_code ec;
  fs::create_directories(copy.parent_path(), ec);
  if (ec) Fail(ErrorKind::kIo, "cannot create {}: {}", copy.parent_path().string(), ec.message());
  std::ofstream out(copy, std::ios::binary | std::ios::trunc);
  if (!out) Fail(ErrorKind::kIo, "cannot write {}: {}", copy.string(), std::strerror(errno));
  auto fault = CheckText(in, encoding, max_line_size, &out);
  out.close();
  if (fault) {
    fs::remove(copy, ec);
    return fault;
  }
  if (!out) Fail(ErrorKind::kIo, "cannot write {}", copy.string());
  local.Substitute(key, copy.string(), *folder_, folder_);
  return std::nullopt;
}

void FetchForReading(const lake::Store& store, const meta::Table& table,
                     const std::vector<std::string>& keys, lake::Fetched& local) {
  lake::Fetched fetched = store.Fetch(keys);
  std::vector<std::string> originals = fetched.Paths(keys);
  local.Add(std::move(fetched));
  if (table.format != "csv") return;
  json dialect = json::parse(table.options.empty() ? "{}" : table.options, nullptr, false);
  CsvEncoding encoding = EncodingOf(dialect);
  if (!ReadsCopy(encoding)) return;
  Utf8Copies copies(store);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (local.Path(keys[i]) != originals[i]) continue;  // read from a copy already
    if (auto fault = copies.Prepare(keys[i], encoding, MaxLineSizeOf(dialect), local)) {
      FailWithCode(ErrorKind::kInput, "input.bad_text", "{} of {}: {}", keys[i], table.full_name(),
                   fault->reason);
    }
  }
}

}  // namespace sluice::catalog
