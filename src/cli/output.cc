#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "api/errors.h"
#include "common/redact.h"

namespace sluice::cli {

namespace {
// Display width of UTF-8 text (code points; good enough for tables of names and numbers).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

namespace {
// Holds text until a line ends (or a flush), then passes it on redacted.
class RedactingBuffer : public std::streambuf {
 public:
  explicit RedactingBuffer(std::streambuf* target) : target_(target) {}

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    line_ += static_cast<char>(c);
    if (c == '\n') Emit();
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) overflow(traits_type::to_int_type(s[i]));
    return n;
  }
  int sync() override {
    Emit();
    return target_->pubsync();
  }

 private:
  void Emit() {
    if (line_.empty()) return;
    std::string out = Redact(std::move(line_));
    target_->sputn(out.data(), static_cast<std::streamsize>(out.size()));
    line_.clear();
  }
  std::streambuf* target_;
  std::string line_;
};

// stdout as it was before RedactStandardStreams: where data goes.
std::streambuf* raw_stdout = nullptr;

// Data printed as it is: query answers are the user's values, not Sluice's messages, and a cell
// that happens to equal a secret (or part of one) must not change.
std::ostream& DataOut() {
  static std::ostream out(nullptr);
  std::cout.flush();  // what was printed before the data stays before it
  out.rdbuf(raw_stdout ? raw_stdout : std::cout.rdbuf());
  return out;
}
}  // namespace

void RedactStandardStreams() {
  // Whole lines only (no unitbuf: a secret printed in two pieces is still one line). Never
  // freed: the streams flush through them while the process exits.
  raw_stdout = std::cout.rdbuf();
  std::cout.rdbuf(new RedactingBuffer(std::cout.rdbuf()));
  std::cerr.unsetf(std::ios::unitbuf);
  std::cerr.rdbuf(new RedactingBuffer(std::cerr.rdbuf()));
}

std::string TextTable::Render() const {
  std::vector<size_t> widths(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) widths[c] = Width(headers[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], Width(row[c]));
    }
  }
  std::string text;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t pad = widths[c] - Width(cells[c]);
      bool r = c < right.size() && right[c];
      if (c) out += "  ";
      if (r) out += std::string(pad, ' ');
      out += cells[c];
      if (!r && c + 1 < cells.size()) out += std::string(pad, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    text += out + "\n";
  };
  line(headers);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : rows) line(row);
  return text;
}

void TextTable::Print() const { std::cout << Redact(Render()); }

void PrintResult(engine::Result& result, const std::string& format) {
  std::vector<std::string> columns;
  std::vector<bool> numeric;
  for (size_t c = 0; c < result.column_count(); ++c) {
    columns.push_back(result.column_name(c));
    numeric.push_back(result.is_numeric(c));
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (size_t r = 0; r < result.row_count(); ++r) {
    std::vector<std::optional<std::string>> row;
    for (size_t c = 0; c < columns.size(); ++c) row.push_back(result.Get(c, r));
    rows.push_back(std::move(row));
  }
  PrintRows(columns, numeric, rows, format);
}

void PrintRows(const std::vector<std::string>& columns, const std::vector<bool>& numeric,
               const std::vector<std::vector<std::optional<std::string>>>& rows,
               const std::string& format) {
  size_t cols = columns.size();
  if (format == "csv") {
    std::string out;
    for (size_t c = 0; c < cols; ++c) out += (c ? "," : "") + CsvField(columns[c]);
    out += "\n";
    for (const auto& row : rows) {
      for (size_t c = 0; c < cols; ++c) out += (c ? "," : "") + CsvField(row[c].value_or(""));
      out += "\n";
    }
    DataOut() << out << std::flush;
    return;
  }
  if (format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& row : rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t c = 0; c < cols; ++c) {
        const auto& v = row[c];
        if (!v) {
          obj[columns[c]] = nullptr;
        } else if (numeric[c]) {
          obj[columns[c]] = nlohmann::json::parse(*v, nullptr, false);
          if (obj[columns[c]].is_discarded()) obj[columns[c]] = *v;
        } else {
          obj[columns[c]] = *v;
        }
      }
      arr.push_back(obj);
    }
    DataOut() << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"
              << std::flush;
    return;
  }
  TextTable t;
  t.headers = columns;
  t.right = numeric;
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < cols; ++c) cells.push_back(row[c].value_or("NULL"));
    t.rows.push_back(cells);
  }
  DataOut() << t.Render() << "(" << rows.size() << " row" << (rows.size() == 1 ? "" : "s") << ")\n"
            << std::flush;
}

void PrintJson(const nlohmann::json& value) {
  // Values, not the text: a secret that reads like a number must not turn a number into ***.
  std::cout << RedactJson(value).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}

void PrintError(const Error& error, const std::string& format) {
  if (format == "json") {
    std::cerr << api::ErrorJson(error).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace)
              << std::endl;
  } else {
    std::cerr << "error[" << error.shown_code() << "]: " << Redact(error.what()) << std::endl;
  }
}

}  // namespace sluice::cli
