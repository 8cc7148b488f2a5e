#include "notify/notify.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/redact.h"
#include "common/time.h"

extern char** environ;

namespace sluice::notify {
namespace {

// The test servers live in tests/support, three folders up from this file.
fs::path SupportDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "tests" / "support";
}

// A python3 that can run `module` checks ("" for none): PATH's first, then the system's (the
// Debian python3-aiosmtpd package installs for /usr/bin/python3 only).
std::string FindPython(const std::string& module) {
  for (std::string python : {"python3", "/usr/bin/python3"}) {
    std::string check =
        python + " -c 'import " + (module.empty() ? "sys" : module) + "' >/dev/null 2>&1";
    if (std::system(check.c_str()) == 0) return python;
  }
  return "";
}

// A test server process: started with its stdout on a pipe, whose first line is its port;
// SIGTERM (then SIGKILL) when the test ends. The servers also quit by themselves after 60 s.
class Server {
 public:
  Server(const std::string& python, const std::string& script, std::vector<std::string> args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv = {python, (SupportDir() / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    int rc = posix_spawnp(&pid_, argv[0].c_str(), &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      pid_ = -1;
      throw std::runtime_error("cannot start " + argv[0]);
    }
    // Read the first line (the port), waiting at most 20 s.
    std::string line;
    int64_t deadline = MonotonicMs() + 20'000;
    while (line.find('\n') == std::string::npos && MonotonicMs() < deadline) {
      pollfd fd{out[0], POLLIN, 0};
      if (poll(&fd, 1, 100) <= 0) continue;
      char buffer[256];
      ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, static_cast<size_t>(n));
    }
    close(out[0]);
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) throw std::runtime_error(script + " did not print its port: '" + line + "'");
  }

  ~Server() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50; ++i) {  // up to 5 s for a clean exit
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }

  int port() const { return port_; }
  std::string url(const std::string& scheme, const std::string& path = "") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::vector<nlohmann::json> ReadJsonLines(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// The body of a quoted-printable message, decoded (headers dropped).
std::string MailBody(const std::string& content) {
  size_t start = content.find("\r\n\r\n");
  std::string in = start == std::string::npos ? content : content.substr(start + 4);
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && in.compare(i, 3, "=\r\n") == 0) {
      i += 2;  // soft line break
    } else if (in[i] == '=' && i + 2 < in.size()) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string Hmac(const std::string& key, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", digest[i]);
    hex += two;
  }
  return hex;
}

// A self-signed certificate for 127.0.0.1, for the STARTTLS server; also the CA the client trusts.
void WriteSelfSignedCert(const fs::path& cert, const fs::path& key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(x, key, EVP_sha256()), 0);
  FILE* f = std::fopen(cert.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

Event FailedRun() {
  Event e;
  e.type = "run_failed";
  e.project = "shop";
  e.subject = "workflow orders";
  e.run_id = 42;
  e.step = "load.clean_orders";
  e.error_kind = "io";
  e.error = "cannot read landing/orders/a.csv";
  e.message = "workflow orders failed at step load.clean_orders";
  e.details = {{"attempt", 2}, {"tables", {"silver.orders"}}};
  e.time_ms = 1'795'312'561'123;  // 2026-11-22T...
  return e;
}

project::Channel Webhook(const std::string& url, int attempts = 4) {
  project::Channel c;
  c.type = "webhook";
  c.target = url;
  c.events = {"run_failed"};
  c.attempts = attempts;
  return c;
}

project::Channel Email(const std::string& url, const std::string& tls, int attempts = 4) {
  project::Channel c;
  c.type = "email";
  c.target = url;
  c.to = {"ops@example.com", "data@example.com"};
  c.from = "sluice@example.com";
  c.tls = tls;
  c.events = {"run_failed"};
  c.attempts = attempts;
  return c;
}

project::Channel Command(const std::string& command, int attempts = 1) {
  project::Channel c;
  c.type = "command";
  c.target = command;
  c.events = {"run_failed"};
  c.attempts = attempts;
  return c;
}

project::Channel File(const fs::path& path, std::vector<std::string> events = {"run_failed"}) {
  project::Channel c;
  c.type = "file";
  c.target = path.string();
  c.events = std::move(events);
  return c;
}

class NotifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("no_proxy", "127.0.0.1,localhost", 0);  // the test servers are local
    setenv("NO_PROXY", "127.0.0.1,localhost", 0);
  }
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-notify-" + UniqueSuffix());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A notifier whose deliveries are collected in deliveries().
  std::unique_ptr<Notifier> Make(std::map<std::string, project::Channel> channels,
                                 Options options = {.initial_backoff_ms = 20}) {
    for (auto& [name, c] : channels) c.name = name;
    auto notifier = std::make_unique<Notifier>(std::move(channels), options);
    notifier->on_delivery = [this](const Delivery& d) {
      std::lock_guard lock(mu_);
      deliveries_.push_back(d);
    };
    return notifier;
  }
  std::vector<Delivery> deliveries() {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  static std::string Smtp() {
    static const std::string python = FindPython("aiosmtpd");
    return python;
  }

  fs::path dir_;
  std::mutex mu_;
  std::vector<Delivery> deliveries_;
};

// The SMTP server is a real one; scripts/bootstrap installs it, so its absence is a failure.
#define REQUIRE_SMTP()                                                                       \
  if (Smtp().empty())                                                                        \
  GTEST_FAIL() << "no python3 with aiosmtpd: run scripts/bootstrap (python3-aiosmtpd); the " \
                  "email tests need a real SMTP server"

TEST(NotifyJson, HoldsTheEventFields) {
  auto j = ToJson(FailedRun());
  EXPECT_EQ(j["type"], "run_failed");
  EXPECT_EQ(j["project"], "shop");
  EXPECT_EQ(j["subject"], "workflow orders");
  EXPECT_EQ(j["run_id"], 42);
  EXPECT_EQ(j["step"], "load.clean_orders");
  EXPECT_EQ(j["error_kind"], "io");
  EXPECT_EQ(j["error"], "cannot read landing/orders/a.csv");
  EXPECT_EQ(j["details"]["tables"][0], "silver.orders");
  EXPECT_EQ(j["time"], Rfc3339(1'795'312'561'123));
  EXPECT_EQ(j["logs"], "sluice logs 42");

  Event plain;
  plain.type = "schema_drift";
  auto k = ToJson(plain);
  EXPECT_FALSE(k.contains("run_id"));
  EXPECT_FALSE(k.contains("logs"));
  EXPECT_TRUE(std::regex_match(k["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST_F(NotifyTest, WebhookDeliversSignedJson) {
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string()});
  auto channel = Webhook(server.url("http", "/hook"));
  channel.secret = "hook-signing-key";
  auto notifier = Make({{"team", channel}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));

  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  EXPECT_EQ(d[0].attempts, 1);
  EXPECT_EQ(d[0].channel, "team");
  EXPECT_EQ(d[0].event_type, "run_failed");
  auto hooks = ReadJsonLines(record);
  ASSERT_EQ(hooks.size(), 1u);
  const auto& hook = hooks[0];
  EXPECT_EQ(hook["path"], "/hook");
  EXPECT_EQ(hook["headers"]["content-type"], "application/json");
  EXPECT_EQ(hook["headers"]["user-agent"], "sluice");
  std::string body = hook["body"];
  EXPECT_EQ(hook["headers"]["x-sluice-signature"], "sha256=" + Hmac("hook-signing-key", body));
  EXPECT_NE(hook["headers"]["x-sluice-signature"], "sha256=" + Hmac("another key", body));
  auto json = nlohmann::json::parse(body);
  EXPECT_EQ(json, ToJson(FailedRun()));
  EXPECT_EQ(json["logs"], "sluice logs 42");
}

TEST_F(NotifyTest, WebhookWithoutSecretHasNoSignature) {
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string()});
  auto notifier = Make({{"team", Webhook(server.url("http", "/"))}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto hooks = ReadJsonLines(record);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_FALSE(hooks[0]["headers"].contains("x-sluice-signature"));
}

TEST_F(NotifyTest, WebhookRetriedAfterFailures) {
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string(), "--fail-first", "2"});
  auto notifier = Make({{"team", Webhook(server.url("http", "/hook"), 4)}});
  int64_t start = MonotonicMs();
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  EXPECT_EQ(d[0].attempts, 3);
  EXPECT_GE(MonotonicMs() - start, 20 + 40);  // backoff 20 ms, then 40 ms
  auto hooks = ReadJsonLines(record);
  ASSERT_EQ(hooks.size(), 3u);
  EXPECT_EQ(hooks[0]["status"], 500);
  EXPECT_EQ(hooks[2]["status"], 200);
  EXPECT_EQ(hooks[0]["body"], hooks[2]["body"]);  // the same event each time
}

TEST_F(NotifyTest, WebhookGivesUpWithoutLeakingSecrets) {
  const std::string token = "tok-5ecret-url-xyz";
  RegisterSecret(token);
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string(), "--fail-first", "100"});
  auto notifier = Make({{"team", Webhook(server.url("http", "/hook/" + token), 3)}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_EQ(d[0].attempts, 3);
  EXPECT_NE(d[0].error.find("HTTP 500"), std::string::npos) << d[0].error;
  EXPECT_NE(d[0].error.find("/hook/***"), std::string::npos) << d[0].error;
  EXPECT_EQ(d[0].error.find(token), std::string::npos) << d[0].error;
  EXPECT_EQ(ReadJsonLines(record).size(), 3u);
}

TEST_F(NotifyTest, WebhookTransportErrorIsReported) {
  // A port nothing listens on: find one by binding the server, then stopping it.
  int port;
  {
    Server server(FindPython(""), "webhook_server.py", {(dir_ / "x.jsonl").string()});
    port = server.port();
  }
  auto notifier = Make({{"team", Webhook("http://127.0.0.1:" + std::to_string(port) + "/", 2)}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_EQ(d[0].attempts, 2);
  EXPECT_NE(d[0].error.find("POST http://127.0.0.1"), std::string::npos) << d[0].error;
}

TEST_F(NotifyTest, EmailDelivered) {
  REQUIRE_SMTP();
  fs::path record = dir_ / "mail.jsonl";
  Server server(Smtp(), "smtp_server.py", {record.string()});
  // The test server offers no STARTTLS: `try` sends in plain text (see EmailOverStartTls).
  auto notifier = Make({{"oncall", Email(server.url("smtp"), "try")}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  EXPECT_EQ(d[0].attempts, 1);
  auto mails = ReadJsonLines(record);
  ASSERT_EQ(mails.size(), 1u);
  const auto& mail = mails[0];
  EXPECT_EQ(mail["mail_from"], "sluice@example.com");
  EXPECT_EQ(mail["rcpt_tos"], nlohmann::json({"ops@example.com", "data@example.com"}));
  EXPECT_EQ(mail["tls"], false);
  std::string content = mail["content"];
  for (const char* expected :
       {"Subject: [sluice] run failed: workflow orders (run 42)\r\n",
        "From: sluice@example.com\r\n", "To: ops@example.com, data@example.com\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n", "Message-ID: <sluice.", "Date: ",
        "Where:   step load.clean_orders\r\n", "Error:   io: cannot read landing/orders/a.csv\r\n",
        "Run:     42\r\n", "See the log: sluice logs 42\r\n", "\"subject\": \"workflow orders\""}) {
    EXPECT_NE(content.find(expected), std::string::npos) << expected << "\n" << content;
  }
  EXPECT_TRUE(std::regex_search(content, std::regex(R"(Date: \w{3}, \d\d \w{3} \d{4} )")));
  // The body ends with the event's JSON, the same as a webhook receives.
  std::string body = MailBody(content);
  EXPECT_EQ(body.find("Run failed: workflow orders in project shop (run 42).\r\n"), 0u) << body;
  size_t json = body.find("The event as JSON:\r\n");
  ASSERT_NE(json, std::string::npos) << body;
  EXPECT_EQ(nlohmann::json::parse(body.substr(json + 20)), ToJson(FailedRun()));
}

TEST_F(NotifyTest, EmailRetriedAfterTemporaryFailure) {
  REQUIRE_SMTP();
  fs::path record = dir_ / "mail.jsonl";
  Server server(Smtp(), "smtp_server.py", {record.string(), "--fail-first", "1"});
  auto notifier = Make({{"oncall", Email(server.url("smtp"), "none")}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  EXPECT_EQ(d[0].attempts, 2);
  EXPECT_EQ(ReadJsonLines(record).size(), 1u);
}

TEST_F(NotifyTest, EmailGivesUpAfterAttempts) {
  REQUIRE_SMTP();
  fs::path record = dir_ / "mail.jsonl";
  Server server(Smtp(), "smtp_server.py", {record.string(), "--fail-first", "10"});
  auto notifier = Make({{"oncall", Email(server.url("smtp"), "none", 2)}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_EQ(d[0].attempts, 2);
  EXPECT_NE(d[0].error.find("451"), std::string::npos) << d[0].error;
  EXPECT_TRUE(ReadJsonLines(record).empty());
}

TEST_F(NotifyTest, EmailOverStartTlsWithLogin) {
  REQUIRE_SMTP();
  fs::path cert = dir_ / "cert.pem", key = dir_ / "key.pem";
  WriteSelfSignedCert(cert, key);
  if (HasFatalFailure()) return;
  fs::path record = dir_ / "mail.jsonl";
  Server server(Smtp(), "smtp_server.py",
                {record.string(), "--starttls", cert.string(), key.string(), "--auth",
                 "mailer:pa55word-smtp"});
  auto channel = Email(server.url("smtp"), "starttls");
  channel.username = "mailer";
  channel.password = "pa55word-smtp";
  auto notifier = Make({{"oncall", channel}}, {.initial_backoff_ms = 20, .ca_file = cert.string()});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  auto mails = ReadJsonLines(record);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["tls"], true);
  EXPECT_EQ(mails[0]["login"], "mailer");
}

TEST_F(NotifyTest, EmailRefusesPlainTextWhenStartTlsRequired) {
  REQUIRE_SMTP();
  fs::path record = dir_ / "mail.jsonl";
  Server server(Smtp(), "smtp_server.py", {record.string()});
  auto notifier = Make({{"oncall", Email(server.url("smtp"), "starttls", 1)}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_NE(d[0].error.find("tls: try"), std::string::npos) << d[0].error;
  EXPECT_TRUE(ReadJsonLines(record).empty());
}

TEST_F(NotifyTest, CommandReceivesJsonOnStdin) {
  fs::path out = dir_ / "stdin.json";
  auto notifier = Make({{"audit", Command("cat > '" + out.string() + "'")}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
  std::string text = ReadFile(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  EXPECT_EQ(nlohmann::json::parse(text), ToJson(FailedRun()));
}

TEST_F(NotifyTest, FailingCommandReportsFailure) {
  auto notifier = Make({{"audit", Command("cat >/dev/null; echo 'no disk' >&2; exit 3", 2)}});
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_EQ(d[0].attempts, 2);
  EXPECT_NE(d[0].error.find("exited with status 3: no disk"), std::string::npos) << d[0].error;
}

TEST_F(NotifyTest, CommandKilledAfterTimeout) {
  auto notifier =
      Make({{"audit", Command("sleep 30")}}, {.initial_backoff_ms = 20, .timeout_ms = 300});
  int64_t start = MonotonicMs();
  notifier->Publish(FailedRun());
  ASSERT_TRUE(notifier->Flush(20'000));
  EXPECT_LT(MonotonicMs() - start, 5'000);
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_NE(d[0].error.find("ran past 300 ms"), std::string::npos) << d[0].error;
}

TEST_F(NotifyTest, CommandNotReadingStdinDoesNotKillSluice) {
  Event big = FailedRun();
  big.details["blob"] = std::string(1 << 20, 'x');  // more than a pipe holds
  auto notifier = Make({{"audit", Command("exit 0")}});
  notifier->Publish(big);
  ASSERT_TRUE(notifier->Flush(20'000));
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].ok) << d[0].error;
}

TEST_F(NotifyTest, FileChannelAppendsJsonLines) {
  fs::path path = dir_ / "nested" / "folder" / "events.jsonl";
  auto notifier = Make({{"log", File(path, {"run_succeeded", "run_failed"})}});
  Event ok = FailedRun();
  ok.type = "run_succeeded";
  notifier->Publish(ok);
  notifier->Publish(FailedRun());
  notifier->Publish(ok);
  ASSERT_TRUE(notifier->Flush(20'000));
  auto lines = ReadJsonLines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["type"], "run_succeeded");
  EXPECT_EQ(lines[1]["type"], "run_failed");
  EXPECT_EQ(lines[2]["type"], "run_succeeded");
  for (const auto& d : deliveries()) EXPECT_TRUE(d.ok) << d.error;
}

TEST_F(NotifyTest, OnlySubscribedEventsAreDelivered) {
  auto notifier = Make({{"failures", File(dir_ / "failures.jsonl", {"run_failed"})},
                        {"quality", File(dir_ / "quality.jsonl", {"quality_warned"})}});
  for (const char* type : {"run_succeeded", "run_failed", "quality_warned", "schema_drift"}) {
    Event e = FailedRun();
    e.type = type;
    notifier->Publish(e);
  }
  Event direct = FailedRun();
  direct.type = "run_succeeded";
  notifier->Send("quality", direct);  // a workflow's notify step: whatever it subscribes to
  ASSERT_TRUE(notifier->Flush(20'000));
  auto failures = ReadJsonLines(dir_ / "failures.jsonl");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0]["type"], "run_failed");
  auto quality = ReadJsonLines(dir_ / "quality.jsonl");
  ASSERT_EQ(quality.size(), 2u);
  EXPECT_EQ(quality[0]["type"], "quality_warned");
  EXPECT_EQ(quality[1]["type"], "run_succeeded");
  EXPECT_EQ(deliveries().size(), 3u);
}

TEST_F(NotifyTest, ChannelsFromSluiceYaml) {
  WriteFileAtomic(dir_ / "sluice.yaml",
                  "project: shop\n"
                  "notifications:\n"
                  "  quality: { file: out/quality.jsonl, on: [quality] }\n"
                  "  default: { file: out/default.jsonl }\n"
                  "  everything: { file: out/all.jsonl, on: all }\n");
  project::Diagnostics diagnostics;
  auto p = project::Load(dir_, "dev", diagnostics);
  ASSERT_TRUE(diagnostics.empty()) << diagnostics.items()[0].str();
  auto notifier = Make(p.channels);
  for (const auto& type : project::kEventTypes) {
    Event e = FailedRun();
    e.type = type;
    notifier->Publish(e);
  }
  ASSERT_TRUE(notifier->Flush(20'000));
  auto types = [&](const char* file) {
    std::vector<std::string> out;
    for (const auto& line : ReadJsonLines(dir_ / "out" / file)) out.push_back(line["type"]);
    return out;
  };
  EXPECT_EQ(types("quality.jsonl"), std::vector<std::string>({"quality_warned", "quality_failed"}));
  EXPECT_EQ(types("default.jsonl"), std::vector<std::string>({"run_failed"}));
  EXPECT_EQ(types("all.jsonl"), project::kEventTypes);
}

TEST_F(NotifyTest, RegisteredSecretsNeverReachAChannel) {
  const std::string secret = "s3cr3t-db-passw0rd";
  RegisterSecret(secret);
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string()});
  fs::path command_out = dir_ / "command.json";
  std::map<std::string, project::Channel> channels = {
      {"hook", Webhook(server.url("http", "/"))},
      {"log", File(dir_ / "events.jsonl")},
      {"audit", Command("cat > '" + command_out.string() + "'")}};
  fs::path mail_record = dir_ / "mail.jsonl";
  std::optional<Server> smtp;  // email too, where the test SMTP server can run
  if (!Smtp().empty()) {
    smtp.emplace(Smtp(), "smtp_server.py", std::vector<std::string>{mail_record.string()});
    channels["mail"] = Email(smtp->url("smtp"), "none");
  }
  auto notifier = Make(channels);
  Event e = FailedRun();
  e.error = "cannot connect to postgresql://etl:" + secret + "@db/shop";
  e.message = "failed with " + secret;
  e.details = {{"dsn", "password=" + secret}, {"nested", {{"list", {secret}}}}};
  notifier->Publish(e);
  ASSERT_TRUE(notifier->Flush(20'000));
  for (const auto& d : deliveries()) EXPECT_TRUE(d.ok) << d.channel << ": " << d.error;
  auto hooks = ReadJsonLines(record);
  ASSERT_EQ(hooks.size(), 1u);
  std::vector<std::string> sent_texts = {hooks[0].dump(), ReadFile(dir_ / "events.jsonl"),
                                         ReadFile(command_out)};
  if (smtp) {
    auto mails = ReadJsonLines(mail_record);
    ASSERT_EQ(mails.size(), 1u);
    sent_texts.push_back(mails[0]["content"].get<std::string>());
    sent_texts.push_back(MailBody(mails[0]["content"]));
  }
  for (const std::string& sent : sent_texts) {
    EXPECT_EQ(sent.find(secret), std::string::npos) << sent;
    EXPECT_NE(sent.find("***"), std::string::npos) << sent;
  }
  auto body = nlohmann::json::parse(hooks[0]["body"].get<std::string>());
  EXPECT_EQ(body["error"], "cannot connect to postgresql://etl:***@db/shop");
}

TEST_F(NotifyTest, SendToUnknownChannelThrowsWithHint) {
  auto notifier = Make({{"team", File(dir_ / "a.jsonl")}, {"oncall", File(dir_ / "b.jsonl")}});
  try {
    notifier->Send("teem", FailedRun());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_EQ(std::string(e.what()),
              "no notification channel 'teem' in sluice.yaml\n  hint: did you mean 'team'?");
  }
  try {
    notifier->Send("pager", FailedRun());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("known channels: oncall, team"), std::string::npos)
        << e.what();
  }
}

TEST_F(NotifyTest, ShutdownDoesNotWaitForLongBackoff) {
  fs::path record = dir_ / "hooks.jsonl";
  Server server(FindPython(""), "webhook_server.py", {record.string(), "--fail-first", "100"});
  int64_t start = MonotonicMs();
  {
    auto notifier =
        Make({{"team", Webhook(server.url("http", "/"), 10)}}, {.initial_backoff_ms = 60'000});
    notifier->Publish(FailedRun());
    EXPECT_FALSE(notifier->Flush(300));
  }  // the destructor flushes for up to ~5 s, then stops the retries
  EXPECT_LT(MonotonicMs() - start, 9'000);
  auto d = deliveries();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].ok);
  EXPECT_EQ(d[0].attempts, 1);
  EXPECT_NE(d[0].error.find("sluice stopped"), std::string::npos) << d[0].error;
}

}  // namespace
}  // namespace sluice::notify
