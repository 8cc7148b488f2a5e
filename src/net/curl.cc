#include "net/curl.h"

#include <algorithm>
#include <mutex>

#include "common/interrupt.h"
#include "common/redact.h"
#include "common/strings.h"

namespace sluice::net::internal {
namespace {

// Aborts the transfer once the cancel flag turns true, or on Ctrl-C/SIGTERM (or a stop of the
// calling thread's ScopedStop: libcurl calls this on the thread that runs the transfer).
int AbortOnCancel(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return (cancel != nullptr && cancel->load()) || Interrupted() ? 1 : 0;
}

}  // namespace

Easy::Easy() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_ = curl_easy_init();
  error_[0] = '\0';
  if (handle_ == nullptr) {
    Throw({ErrorKind::kIo, "net.transfer"}, "cannot start a transfer (curl_easy_init failed)");
  }
}

Easy::~Easy() { curl_easy_cleanup(handle_); }

void Easy::SetCommon(const std::string& url, const char* protocols, int64_t connect_timeout_ms,
                     int64_t timeout_ms, const std::string& ca_file,
                     const std::atomic<bool>* cancel) {
  curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, connect_timeout_ms)));
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, timeout_ms)));
  curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(handle_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle_, CURLOPT_XFERINFOFUNCTION, AbortOnCancel);
  curl_easy_setopt(handle_, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  if (!ca_file.empty()) curl_easy_setopt(handle_, CURLOPT_CAINFO, ca_file.c_str());
}

void StringList::Add(const std::string& item) {
  if (curl_slist* grown = curl_slist_append(list_, item.c_str())) list_ = grown;
}

Failure Classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return {ErrorKind::kIo, "net.timeout"};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return {ErrorKind::kIo, "net.connect"};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return {ErrorKind::kIo, "net.tls"};
    case CURLE_USE_SSL_FAILED:
      return {ErrorKind::kIo, "net.starttls_refused"};
    case CURLE_FILESIZE_EXCEEDED:
      return {ErrorKind::kIo, "net.too_large"};
    case CURLE_TOO_MANY_REDIRECTS:
      return {ErrorKind::kIo, "net.redirect"};
    case CURLE_ABORTED_BY_CALLBACK:
      return {ErrorKind::kInterrupted, "net.cancelled"};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {ErrorKind::kConfig, "net.bad_url"};
    default:
      return {ErrorKind::kIo, "net.transfer"};
  }
}

std::string Words(CURLcode code, const Easy& easy) {
  std::string text = Trim(easy.error_buffer());
  return text.empty() ? curl_easy_strerror(code) : text;
}

void Throw(Failure failure, const std::string& message) {
  throw Error(failure.kind, failure.code, Redact(message));
}

}  // namespace sluice::net::internal
