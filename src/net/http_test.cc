#include "net/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/redact.h"
#include "common/time.h"

namespace sluice::net {
namespace {

// A loopback HTTP/1.1 server on its own thread, one connection at a time, each closed after one
// answer. Routes: /ok, /status/<n>, /big/<n> (with Content-Length), /stream/<n> (without),
// /slow (answers after 5 s unless stopped), /hop/<n> (redirects n times, then to /ok), /loop
// (redirects to itself), /echo (method, headers and body back).
class TestServer {
 public:
  TestServer() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listener_, 16) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd fd{listener_, POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      Handle(client);
      close(client);
    }
  }

  void Handle(int client) {
    std::string in;
    char buffer[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) return;
      in.append(buffer, static_cast<size_t>(n));
    }
    std::string head = in.substr(0, head_end);
    size_t length = 0;
    if (size_t at = head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(head.substr(at + 16));
    }
    while (in.size() < head_end + 4 + length) {
      ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) return;
      in.append(buffer, static_cast<size_t>(n));
    }
    std::string body = in.substr(head_end + 4, length);
    std::string method = head.substr(0, head.find(' '));
    std::string path =
        head.substr(method.size() + 1, head.find(' ', method.size() + 1) - method.size() - 1);
    {
      std::lock_guard lock(mu_);
      paths_.push_back(path);
    }
    auto number = [&](const std::string& prefix) { return std::stoul(path.substr(prefix.size())); };
    if (path == "/ok") return Answer(client, 200, "hello");
    if (path.rfind("/status/", 0) == 0) {
      return Answer(client, static_cast<int>(number("/status/")), "the\nserver's words");
    }
    if (path.rfind("/big/", 0) == 0) return Answer(client, 200, std::string(number("/big/"), 'x'));
    if (path.rfind("/stream/", 0) == 0) {
      std::string out =
          "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(number("/stream/"), 'y');
      return Write(client, out);
    }
    if (path == "/slow") {
      for (int i = 0; i < 100 && !stop_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return Answer(client, 200, "late");
    }
    if (path.rfind("/hop/", 0) == 0) {
      size_t left = number("/hop/");
      return Answer(client, 302, "", left == 0 ? "/ok" : "/hop/" + std::to_string(left - 1));
    }
    if (path == "/loop") return Answer(client, 302, "", "/loop");
    if (path == "/echo") return Answer(client, 200, head + "\r\n\r\n" + body);
    Answer(client, 404, "no route " + path);
  }

  void Answer(int client, int status, const std::string& body, const std::string& location = "") {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nConnection: close\r\n" +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!location.empty()) out += "Location: " + location + "\r\n";
    Write(client, out + "\r\n" + body);
  }

  static void Write(int client, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = send(client, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> paths_;
};

// The code of the sluice::Error that `run` throws, and its message in `message`.
template <typename F>
std::string CodeOf(F run, std::string* message = nullptr) {
  try {
    run();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return "(no error)";
}

TEST(HttpClientTest, GetsBodyAndStatus) {
  TestServer server;
  Response response = HttpClient().Send({Method::kGet, server.url("/ok")});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_TRUE(response.Success());
  EXPECT_NO_THROW(response.ThrowUnlessSuccess());
}

TEST(HttpClientTest, PostsBodyAndHeaders) {
  TestServer server;
  Response response = HttpClient().Send(
      {Method::kPost, server.url("/echo"), {{"Content-Type", "application/json"}}, "{\"a\":1}"});
  EXPECT_EQ(response.body.rfind("POST /echo HTTP/1.1", 0), 0u) << response.body;
  EXPECT_NE(response.body.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(response.body.find("User-Agent: sluice"), std::string::npos);
  EXPECT_EQ(response.body.find("Expect:"), std::string::npos);
  EXPECT_EQ(response.body.substr(response.body.size() - 7), "{\"a\":1}");
  Response put = HttpClient().Send({Method::kPut, server.url("/echo"), {}, "data"});
  EXPECT_EQ(put.body.rfind("PUT /echo", 0), 0u) << put.body;
}

TEST(HttpClientTest, StatusErrorNamesStatusAndServerWords) {
  TestServer server;
  Response response = HttpClient().Send({Method::kPost, server.url("/status/503"), {}, "x"});
  EXPECT_EQ(response.status, 503);
  EXPECT_FALSE(response.Success());
  std::string message;
  EXPECT_EQ(CodeOf([&] { response.ThrowUnlessSuccess(); }, &message), "net.http_status");
  EXPECT_EQ(message, "POST " + server.url("/status/503") + ": HTTP 503: the server's words");
}

TEST(HttpClientTest, TotalTimeout) {
  TestServer server;
  HttpClient client({.timeout_ms = 300});
  int64_t start = MonotonicMs();
  EXPECT_EQ(CodeOf([&] { client.Send({Method::kGet, server.url("/slow")}); }), "net.timeout");
  EXPECT_LT(MonotonicMs() - start, 3'000);
}

TEST(HttpClientTest, RefusedConnection) {
  int port;
  {
    TestServer server;  // a port nothing listens on once the server is gone
    port = std::stoi(server.url("").substr(17));
  }
  std::string message;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_EQ(CodeOf([&] { HttpClient().Send({Method::kGet, url}); }, &message), "net.connect");
  EXPECT_EQ(message.rfind("GET " + url + ": ", 0), 0u) << message;
}

TEST(HttpClientTest, ResponseLargerThanCapFails) {
  TestServer server;
  HttpClient client({.max_response_bytes = 1000});
  EXPECT_EQ(client.Send({Method::kGet, server.url("/big/1000")}).body.size(), 1000u);
  std::string message;
  EXPECT_EQ(CodeOf(
                [&] {
                  client.Send({Method::kGet, server.url("/big/1001")});
                },
                &message),
            "net.too_large");
  EXPECT_NE(message.find("larger than 1000 bytes"), std::string::npos) << message;
  // Without a Content-Length the cap holds while reading.
  EXPECT_EQ(CodeOf([&] {
              client.Send({Method::kGet, server.url("/stream/50000")});
            }),
            "net.too_large");
}

TEST(HttpClientTest, ResponseTruncatedWhenAsked) {
  TestServer server;
  HttpClient client({.max_response_bytes = 10, .overflow = Overflow::kTruncate});
  Response response = client.Send({Method::kGet, server.url("/stream/50000")});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string(10, 'y'));
  EXPECT_TRUE(response.truncated);
}

TEST(HttpClientTest, RedirectRefusedByDefault) {
  TestServer server;
  Response response = HttpClient().Send({Method::kGet, server.url("/hop/0")});
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(server.paths(), std::vector<std::string>{"/hop/0"});  // /ok never asked
  EXPECT_EQ(CodeOf([&] { response.ThrowUnlessSuccess(); }), "net.http_status");
}

TEST(HttpClientTest, RedirectFollowedWithinLimit) {
  TestServer server;
  HttpClient client({.redirects = Redirects::kFollow, .max_redirects = 3});
  Response response = client.Send({Method::kGet, server.url("/hop/2")});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(server.paths(), (std::vector<std::string>{"/hop/2", "/hop/1", "/hop/0", "/ok"}));
  EXPECT_EQ(CodeOf([&] { client.Send({Method::kGet, server.url("/loop")}); }), "net.redirect");
}

TEST(HttpClientTest, CancelStopsTheRequest) {
  TestServer server;
  std::atomic<bool> cancel{false};
  HttpClient client({.cancel = &cancel});
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  int64_t start = MonotonicMs();
  EXPECT_EQ(CodeOf([&] { client.Send({Method::kGet, server.url("/slow")}); }), "net.cancelled");
  EXPECT_LT(MonotonicMs() - start, 3'000);
  canceller.join();
}

TEST(HttpClientTest, OnlyHttpAndHttps) {
  EXPECT_EQ(CodeOf([] { HttpClient().Send({Method::kGet, "file:///etc/passwd"}); }), "net.bad_url");
  EXPECT_EQ(CodeOf([] { HttpClient().Send({Method::kGet, "ftp://127.0.0.1/"}); }), "net.bad_url");
}

TEST(HttpClientTest, SecretsNeverInErrors) {
  TestServer server;
  const std::string base = server.url("");
  const std::string authority = base.substr(7);  // 127.0.0.1:port
  const std::string url =
      "http://reader:pa55-in-url@" + authority + "/status/401?page=2&access_token=tok-in-query";
  Request request{Method::kGet, url, {{"Authorization", "Bearer bearer-in-header"}}};
  Response response = HttpClient().Send(request);
  std::string message;
  EXPECT_EQ(CodeOf([&] { response.ThrowUnlessSuccess(); }, &message), "net.http_status");
  EXPECT_EQ(message, "GET http://reader:***@" + authority +
                         "/status/401?page=2&access_token=***: HTTP 401: the server's words");
  // A transport failure too: the same request to a closed port.
  request.url = "http://reader:pa55-in-url@127.0.0.1:1/?api_key=tok-in-query";
  EXPECT_EQ(CodeOf([&] { HttpClient().Send(request); }, &message), "net.connect");
  for (const char* secret : {"pa55-in-url", "tok-in-query", "bearer-in-header"}) {
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
  // Registered secrets (resolved ${env:...} values) anywhere in the URL are removed as well.
  RegisterSecret("path-secret-123");
  EXPECT_EQ(CodeOf(
                [&] {
                  HttpClient().Send({Method::kGet, "http://127.0.0.1:1/path-secret-123"});
                },
                &message),
            "net.connect");
  EXPECT_EQ(message.find("path-secret-123"), std::string::npos) << message;
}

TEST(HttpClientTest, RedactUrl) {
  EXPECT_EQ(RedactUrl("https://example.com/a?b=1"), "https://example.com/a?b=1");
  EXPECT_EQ(RedactUrl("https://u:p@example.com/a"), "https://u:***@example.com/a");
  EXPECT_EQ(RedactUrl("https://u@example.com/a"), "https://u@example.com/a");
  EXPECT_EQ(RedactUrl("https://h/x?Token=t&q=ok&X-Amz-Signature=s#frag"),
            "https://h/x?Token=***&q=ok&X-Amz-Signature=***#frag");
  EXPECT_EQ(RedactUrl("https://h/p@q?apikey=k"), "https://h/p@q?apikey=***");
}

}  // namespace
}  // namespace sluice::net
