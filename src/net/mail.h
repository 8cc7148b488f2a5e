#pragma once
// The one SMTP client (libcurl underneath, like net/http.h). Sends a finished RFC 5322 message;
// composing it is the caller's business. TLS peers are verified, as for HTTP.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::net {

// Whether the session must be encrypted (STARTTLS on smtp://, implicit TLS on smtps://).
enum class MailTls {
  kRequire,  // refuse to send in plain text (net.starttls_refused when the server offers none)
  kTry,      // use TLS when the server offers it, else send in plain text
  kNone,     // never upgrade
};

struct Mail {
  std::string url;  // smtp://host:port or smtps://host:port
  MailTls tls = MailTls::kRequire;
  std::string username, password;  // empty: no authentication
  std::string from;                // "<a@b>" or "a@b"
  std::vector<std::string> to;
  std::string message;  // the whole message, CRLF line ends
};

struct MailOptions {
  int64_t timeout_ms = 10'000;                // for connecting and for the whole session alike
  std::string ca_file;                        // an extra CA bundle for TLS (empty: the system's)
  const std::atomic<bool>* cancel = nullptr;  // when it turns true the session fails
};

// Sends `mail`. Throws sluice::Error (ErrorKind::kIo) when the server is not reached or refuses:
// net.timeout, net.connect, net.tls, net.starttls_refused (tls kRequire and the server offers no
// STARTTLS), net.smtp (the server refused a command: the message names its reply code),
// net.transfer; net.bad_url (kConfig) for a URL that is not smtp(s); net.cancelled
// (kInterrupted). Messages name "SMTP <url>" with secrets removed, never the password. Safe to
// call from any number of threads at once.
void SendMail(const Mail& mail, const MailOptions& options);

}  // namespace sluice::net
