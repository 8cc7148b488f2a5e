#include "notify/transport.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/one_line.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "common/time.h"
#include "net/http.h"
#include "net/mail.h"

extern char** environ;

namespace sluice::notify::internal {
namespace {

// --- email text ----------------------------------------------------------------------------

// A header value on one line; non-ASCII text as RFC 2047 encoded words, folded.
std::string HeaderValue(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';  // no header injection from event content
  }
  bool ascii = std::all_of(text.begin(), text.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return text;
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + 45);
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (end < text.size() && end > start + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    words.push_back("=?UTF-8?B?" + Base64(text.substr(start, end - start)) + "?=");
    start = end;
  }
  return Join(words, "\r\n ");
}

// RFC 5322 date in UTC: "Tue, 22 Nov 2026 13:56:01 +0000".
std::string MailDate(int64_t epoch_ms) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Headline(const std::string& type) {
  if (type == "run_succeeded") return "run succeeded";
  if (type == "run_failed") return "run failed";
  if (type == "step_retried") return "step retried";
  if (type == "quality_warned") return "quality warning";
  if (type == "quality_failed") return "quality check failed";
  if (type == "schema_drift") return "schema drift";
  if (type == "file_quarantined") return "file quarantined";
  std::string out = type;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string Field(const nlohmann::json& event, const char* key) {
  auto it = event.find(key);
  if (it == event.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

std::string CrLf(std::string text) {
  ReplaceAll(text, "\r\n", "\n");
  ReplaceAll(text, "\r", "\n");
  ReplaceAll(text, "\n", "\r\n");
  return text;
}

// Quoted-printable (RFC 2045) of CRLF-separated text: 7-bit clean, lines of at most 76
// characters, so any content (long JSON lines, any language) goes through any mail server.
std::string QuotedPrintable(const std::string& text) {
  std::string out;
  for (const std::string& line : Split(text, '\n')) {
    std::string in = line;
    if (!in.empty() && in.back() == '\r') in.pop_back();
    size_t width = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(in[i]);
      bool last = i + 1 == in.size();
      std::string piece;
      if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
        piece = std::string(1, static_cast<char>(c));
      } else {
        piece = fmt::format("={:02X}", c);
      }
      if (width + piece.size() > 75) {  // soft line break
        out += "=\r\n";
        width = 0;
      }
      out += piece;
      width += piece.size();
    }
    out += "\r\n";
  }
  return out;
}

// At most `max` bytes of UTF-8 text, cut at a character boundary, with "..." when cut.
std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

}  // namespace

std::string Signature(const std::string& secret, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return "sha256=" + hex;
}

void PostWebhook(const project::Channel& channel, const std::string& event_type,
                 const std::string& body, const AttemptContext& context) {
  // Only the start of the server's answer matters: it is quoted in the error.
  net::HttpClient client({.connect_timeout_ms = context.timeout_ms,
                          .timeout_ms = context.timeout_ms,
                          .max_response_bytes = 200,
                          .overflow = net::Overflow::kTruncate,
                          .ca_file = context.ca_file,
                          .cancel = context.stop});
  net::Request request{net::Method::kPost, channel.target, {}, body};
  request.headers = {{"Content-Type", "application/json"}, {"X-Sluice-Event", event_type}};
  if (!channel.secret.empty()) {
    request.headers.emplace_back("X-Sluice-Signature", Signature(channel.secret, body));
  }
  client.Send(request).ThrowUnlessSuccess();
}

std::string EmailMessage(const project::Channel& channel, const nlohmann::json& event,
                         int64_t now_ms) {
  std::string type = Field(event, "type");
  std::string subject = Field(event, "subject");
  std::string project = Field(event, "project");
  std::string run_id = Field(event, "run_id");
  std::string headline = Headline(type);
  std::string about = subject.empty() ? (project.empty() ? "" : "project " + project) : subject;
  std::string title = about.empty() ? headline : headline + ": " + about;
  if (!run_id.empty()) title += " (run " + run_id + ")";

  std::vector<std::string> body;
  std::string first = headline;
  first[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(first[0])));
  if (!about.empty()) first += ": " + about;
  if (!project.empty() && !subject.empty()) first += " in project " + project;
  if (!run_id.empty()) first += " (run " + run_id + ")";
  body.push_back(first + ".");
  body.push_back("");
  auto line = [&](const std::string& label, const std::string& value) {
    if (!value.empty()) body.push_back(fmt::format("{:<9}{}", label + ":", value));
  };
  std::string step = Field(event, "step");
  line("Where", step.empty() ? "" : "step " + step);
  std::string error = Field(event, "error");
  std::string kind = Field(event, "error_kind");
  line("Error", kind.empty() ? error : (error.empty() ? kind : kind + ": " + error));
  line("Message", Field(event, "message"));
  line("Run", run_id);
  line("Time", Field(event, "time"));
  if (!run_id.empty()) {
    body.push_back("");
    body.push_back("See the log: sluice logs " + run_id);
  }
  body.push_back("");
  body.push_back("The event as JSON:");
  body.push_back(event.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));

  std::string domain = "sluice.invalid";
  if (auto at = channel.from.rfind('@'); at != std::string::npos && at + 1 < channel.from.size()) {
    domain = channel.from.substr(at + 1);
    domain.erase(std::remove(domain.begin(), domain.end(), '>'), domain.end());
  }
  std::string to;
  size_t width = 4;  // "To: "
  for (const auto& address : channel.to) {
    std::string item = HeaderValue(address);
    if (!to.empty()) {
      to += ",";
      width += 1;
      if (width + 1 + item.size() > 76) {  // fold long recipient lists
        to += "\r\n";
        width = 0;
      }
      to += " ";
      width += 1;
    }
    to += item;
    width += item.size();
  }
  std::string message;
  message += "Date: " + MailDate(now_ms) + "\r\n";
  message += "From: " + HeaderValue(channel.from) + "\r\n";
  message += "To: " + to + "\r\n";
  message += "Subject: " + HeaderValue("[sluice] " + Shorten(title, 150)) + "\r\n";
  message += fmt::format("Message-ID: <sluice.{}@{}>\r\n", UniqueSuffix(), domain);
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=utf-8\r\n";
  message += "Content-Transfer-Encoding: quoted-printable\r\n";
  message += "X-Sluice-Event: " + HeaderValue(type) + "\r\n";
  message += "\r\n";
  message += QuotedPrintable(CrLf(Join(body, "\n")));
  return message;
}

void SendEmail(const project::Channel& channel, const std::string& message,
               const AttemptContext& context) {
  net::MailTls tls = net::MailTls::kRequire;
  if (channel.tls == "try") tls = net::MailTls::kTry;
  if (channel.tls == "none") tls = net::MailTls::kNone;
  try {
    net::SendMail({channel.target, tls, channel.username, channel.password, channel.from,
                   channel.to, message},
                  {context.timeout_ms, context.ca_file, context.stop});
  } catch (const Error& e) {
    if (e.code() != "net.starttls_refused") throw;
    throw Error(e.kind(), e.code(),
                std::string(e.what()) +
                    " (the server offers no STARTTLS; `tls: try` or `tls: none` sends without it)");
  }
}

std::string RunCommand(const std::string& command, const std::string& input,
                       const AttemptContext& context) {
  Program program;
  program.argv = {"/bin/sh", "-c", command};
  program.input = input;
  program.timeout_ms = std::max<int64_t>(1, context.timeout_ms);
  program.stop = context.stop;
  std::string output;  // the command's stdout and stderr, the last 1 KiB
  program.on_output = [&](bool, std::string_view data) {
    output.append(data);
    if (output.size() > 1024) output.erase(0, output.size() - 1024);
  };
  ProgramResult result;
  try {
    result = RunProgram(program);
  } catch (const Error& e) {
    return e.what();
  }
  std::string tail = OneLine(output.size() > 200 ? output.substr(output.size() - 200) : output);
  std::string said = tail.empty() ? "" : ": " + tail;
  switch (result.end) {
    case ProgramEnd::kStopped:
      return fmt::format("command `{}` was stopped: sluice is shutting down", command);
    case ProgramEnd::kTimedOut:
      return fmt::format("command `{}` ran past {} ms and was killed{}", command,
                         context.timeout_ms, said);
    case ProgramEnd::kSignaled:
      return fmt::format("command `{}` was killed by signal {}{}", command, result.code, said);
    case ProgramEnd::kExited:
      break;
  }
  if (result.code == 0) return "";
  return fmt::format("command `{}` exited with status {}{}", command, result.code, said);
}

std::string AppendLine(const fs::path& path, const std::string& line) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("cannot open {}: {}", path.string(), strerror(errno));
  std::string data = line + "\n";
  size_t done = 0;
  std::string error;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = fmt::format("cannot write {}: {}", path.string(), strerror(errno));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 && error.empty()) {
    error = fmt::format("cannot write {}: {}", path.string(), strerror(errno));
  }
  return error;
}

}  // namespace sluice::notify::internal
