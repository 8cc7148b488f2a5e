#pragma once
// Internal to net: what the HTTP and the SMTP client share over libcurl.
#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace sluice::net::internal {

// One easy handle (curl_global_init has run once per process before it is made). Throws
// net.transfer when libcurl cannot make one.
class Easy {
 public:
  Easy();
  ~Easy();
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
  CURL* get() const { return handle_; }
  // The error buffer the options below point curl at.
  const char* error_buffer() const { return error_; }

  // The URL, the protocols allowed, both timeouts, cancellation, the CA bundle, no signals.
  void SetCommon(const std::string& url, const char* protocols, int64_t connect_timeout_ms,
                 int64_t timeout_ms, const std::string& ca_file, const std::atomic<bool>* cancel);

 private:
  CURL* handle_;
  char error_[CURL_ERROR_SIZE];
};

class StringList {
 public:
  StringList() = default;
  ~StringList() { curl_slist_free_all(list_); }
  StringList(const StringList&) = delete;
  StringList& operator=(const StringList&) = delete;
  void Add(const std::string& item);
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// The code and kind a failed transfer maps to (see http.h and mail.h).
struct Failure {
  ErrorKind kind;
  const char* code;
};
Failure Classify(CURLcode code);
// curl's own words for a failure: its error buffer, else the code's description.
std::string Words(CURLcode code, const Easy& easy);
// Throws `failure` with `message` passed through Redact (the registered secrets).
[[noreturn]] void Throw(Failure failure, const std::string& message);

}  // namespace sluice::net::internal
