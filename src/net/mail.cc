#include "net/mail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/strings.h"
#include "net/curl.h"
#include "net/http.h"

namespace sluice::net {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

std::string Bracketed(const std::string& address) {
  if (StartsWith(address, "<")) return address;
  return "<" + address + ">";
}

}  // namespace

void SendMail(const Mail& mail, const MailOptions& options) {
  internal::Easy easy;
  CURL* h = easy.get();
  easy.SetCommon(mail.url, "smtp,smtps", options.timeout_ms, options.timeout_ms, options.ca_file,
                 options.cancel);
  long use_ssl = CURLUSESSL_ALL;
  if (mail.tls == MailTls::kTry) use_ssl = CURLUSESSL_TRY;
  if (mail.tls == MailTls::kNone) use_ssl = CURLUSESSL_NONE;
  curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
  if (!mail.username.empty()) curl_easy_setopt(h, CURLOPT_USERNAME, mail.username.c_str());
  if (!mail.password.empty()) curl_easy_setopt(h, CURLOPT_PASSWORD, mail.password.c_str());
  std::string from = Bracketed(mail.from);
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  internal::StringList recipients;
  for (const auto& address : mail.to) recipients.Add(Bracketed(address));
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  Upload upload{&mail.message};
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.message.size()));
  CURLcode code = curl_easy_perform(h);
  if (code == CURLE_OK) return;
  std::string error = fmt::format("SMTP {}: {}", RedactUrl(mail.url), internal::Words(code, easy));
  internal::Failure failure = internal::Classify(code);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  if (reply >= 400 && failure.code == std::string_view("net.transfer")) failure.code = "net.smtp";
  if (reply != 0 && error.find(std::to_string(reply)) == std::string::npos) {
    error += fmt::format(" (the server replied {})", reply);
  }
  internal::Throw(failure, error);
}

}  // namespace sluice::net
