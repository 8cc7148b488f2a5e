#include "server/router.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

Response Named(std::string name) {
  Response r;
  r.body = std::move(name);
  return r;
}

TEST(Router, MatchesMethodLiteralsAndCaptures) {
  Router router;
  router.Add(Method::kGet, "/api/runs", [](const Request&) { return Named("list"); });
  router.Add(Method::kGet, "/api/runs/{id}", [](const Request&) { return Named("one"); });
  router.Add(Method::kPost, "/api/workflows/{name}/runs",
             [](const Request&) { return Named("trigger"); });

  auto m = router.Find(Method::kGet, "/api/runs/42");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route->handler(Request{}).body, "one");
  EXPECT_EQ(m->captures, std::vector<std::string>{"42"});

  m = router.Find(Method::kPost, "/api/workflows/daily_load/runs");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->captures, std::vector<std::string>{"daily_load"});

  EXPECT_TRUE(router.Find(Method::kGet, "/api/runs"));
  EXPECT_FALSE(router.Find(Method::kPost, "/api/runs"));                // wrong method
  EXPECT_FALSE(router.Find(Method::kGet, "/api/runs/4x"));              // {id} is digits
  EXPECT_FALSE(router.Find(Method::kGet, "/api/runs/"));                // empty segment
  EXPECT_FALSE(router.Find(Method::kGet, "/api/runs/1/2"));             // too long
  EXPECT_FALSE(router.Find(Method::kPost, "/api/workflows/a-b/runs"));  // {name} charset
  EXPECT_FALSE(router.Find(Method::kGet, ""));
}

TEST(Router, ErrorResponseCarriesStatusCodeAndHeaders) {
  HttpError e(429, "api.rate_limited", "slow down");
  e.headers.emplace_back("Retry-After", "3");
  Response r = ErrorResponse(e);
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("\"code\": \"api.rate_limited\""), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(ErrorResponse(Error(ErrorKind::kUsage, "bad")).status, 400);
  EXPECT_EQ(ErrorResponse(Error(ErrorKind::kIo, "disk")).status, 500);
}

}  // namespace
}  // namespace sluice::server
