#include "server/admission.h"

#include <gtest/gtest.h>

#include <string>

#include "api/errors.h"
#include "server/tokens.h"

namespace sluice::server {
namespace {

TEST(Admission, LoopbackHosts) {
  for (const char* host :
       {"localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]:8686", "LOCALHOST:1"}) {
    EXPECT_TRUE(IsLoopback(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "10.0.0.1", "::", "localhost.evil", "128.0.0.1", ""}) {
    EXPECT_FALSE(IsLoopback(host)) << host;
  }
}

TEST(Admission, HostHeaderNamesThisServer) {
  std::vector<std::string> allowed = {"sluice.example.com"};
  EXPECT_TRUE(HostAllowed("127.0.0.1:8686", "127.0.0.1", allowed));
  EXPECT_TRUE(HostAllowed("localhost:8686", "127.0.0.1", allowed));
  EXPECT_TRUE(HostAllowed("[::1]:8686", "127.0.0.1", allowed));
  EXPECT_TRUE(HostAllowed("Sluice.Example.com:443", "127.0.0.1", allowed));
  EXPECT_FALSE(HostAllowed("rebind.example:8686", "127.0.0.1", allowed));
  EXPECT_FALSE(HostAllowed("", "127.0.0.1", allowed));
  // On every address: any IP literal and loopback names, still no foreign name.
  EXPECT_TRUE(HostAllowed("10.1.2.3:8686", "0.0.0.0", {}));
  EXPECT_TRUE(HostAllowed("localhost", "0.0.0.0", {}));
  EXPECT_FALSE(HostAllowed("rebind.example", "0.0.0.0", {}));
  // On one address: that address, not loopback names.
  EXPECT_TRUE(HostAllowed("10.1.2.3:8686", "10.1.2.3", {}));
  EXPECT_FALSE(HostAllowed("10.1.2.4:8686", "10.1.2.3", {}));
  EXPECT_FALSE(HostAllowed("localhost:8686", "10.1.2.3", {}));
  // Only host[:port]: nothing after the name or the port is ignored.
  for (const char* odd :
       {"127.0.0.1:8686.evil.com", "127.0.0.1:evil.com", "127.0.0.1:8686@evil.com",
        "[::1].evil.com:8686", "127.0.0.1:8686 evil.com", "127.0.0.1:", "a@127.0.0.1", "::1:zz"}) {
    EXPECT_FALSE(HostAllowed(odd, "127.0.0.1", allowed)) << odd;
  }
  EXPECT_TRUE(HostAllowed("::1", "127.0.0.1", allowed));
}

TEST(Admission, OriginMustBeTheSameOrAllowed) {
  std::vector<std::string> allowed = {"console.example.com"};
  const char* host = "127.0.0.1:8686";
  EXPECT_TRUE(OriginAllowed("", "", host, allowed));  // curl, scripts
  EXPECT_TRUE(OriginAllowed("", "none", host, allowed));
  EXPECT_TRUE(OriginAllowed("", "same-origin", host, allowed));
  EXPECT_TRUE(OriginAllowed("http://127.0.0.1:8686", "same-origin", host, allowed));
  EXPECT_TRUE(OriginAllowed("https://console.example.com", "cross-site", host, allowed));
  EXPECT_FALSE(OriginAllowed("", "cross-site", host, allowed));
  EXPECT_FALSE(OriginAllowed("", "same-site", host, allowed));
  EXPECT_FALSE(OriginAllowed("null", "", host, allowed));
  EXPECT_FALSE(OriginAllowed("http://evil.example", "", host, allowed));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:8687", "", host, allowed));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:8686", "cross-site", host, allowed));
}

TEST(RateLimit, RefillsPerMinute) {
  RateLimit limit;
  EXPECT_EQ(limit.Take(2, 0), 0);
  EXPECT_EQ(limit.Take(2, 0), 0);
  EXPECT_EQ(limit.Take(2, 0), 30);       // one run every 30 s
  EXPECT_EQ(limit.Take(2, 20'000), 10);  // 20 s later: 10 s to go
  EXPECT_EQ(limit.Take(2, 30'000), 0);
}

TEST(Tokens, MatchByHashOnly) {
  std::string a = NewTokenSecret(), b = NewTokenSecret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 7u + 64u);
  std::vector<meta::ApiToken> tokens = {{"a", TokenHash(a)}, {"b", TokenHash(b)}};
  EXPECT_EQ(MatchToken(tokens, b), "b");
  EXPECT_EQ(MatchToken(tokens, a), "a");
  EXPECT_FALSE(MatchToken(tokens, a.substr(0, 70)));
  EXPECT_FALSE(MatchToken(tokens, TokenHash(a)));  // the stored hash is not a secret
  EXPECT_TRUE(IsTokenName("ci-deploy.2"));
  EXPECT_FALSE(IsTokenName("a b"));
  EXPECT_FALSE(IsTokenName(std::string(65, 'a')));
}

TEST(ErrorJson, CarriesTheCodeOrTheKind) {
  auto coded = api::ErrorJson(Error(ErrorKind::kInput, "api.too_deep", "too deep"));
  EXPECT_EQ(coded["code"], "api.too_deep");
  EXPECT_EQ(coded["error"], "too deep");
  EXPECT_EQ(api::ErrorJson(Error(ErrorKind::kIo, "disk full"))["code"], "io");
}

}  // namespace
}  // namespace sluice::server
