#include "extract/http_pull.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace sluice::extract {
namespace {

TEST(LinkWithRel, FindsTheRelationAmongLinks) {
  EXPECT_EQ(
      LinkWithRel(R"(<https://api.x/i?page=2>; rel="next", <https://api.x/i?page=9>; rel="last")",
                  "next"),
      "https://api.x/i?page=2");
  EXPECT_EQ(LinkWithRel(R"(<https://api.x/i?page=9>; rel="last", <https://api.x/i?p=2>; rel=next)",
                        "next"),
            "https://api.x/i?p=2");
  // Several relations in one rel, any case; a comma inside the URL or a quoted parameter.
  EXPECT_EQ(LinkWithRel(R"(<https://api.x/a,b>; title="x, y"; rel="prev NEXT")", "next"),
            "https://api.x/a,b");
  EXPECT_EQ(LinkWithRel(R"(<https://api.x/i?page=1>; rel="prev")", "next"), std::nullopt);
  EXPECT_EQ(LinkWithRel("", "next"), std::nullopt);
  EXPECT_EQ(LinkWithRel("<unterminated; rel=next", "next"), std::nullopt);
}

TEST(RetryAfterMs, ReadsSecondsAndDates) {
  EXPECT_EQ(RetryAfterMs("120", 0), 120000);
  EXPECT_EQ(RetryAfterMs(" 0 ", 0), 0);
  // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 s after the epoch.
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470000), 10000);
  EXPECT_EQ(RetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490000), 0);  // past
  EXPECT_EQ(RetryAfterMs("soon", 0), std::nullopt);
  EXPECT_EQ(RetryAfterMs("-5", 0), std::nullopt);
  EXPECT_EQ(RetryAfterMs("99999999999999999999", 0), std::nullopt);
}

TEST(JsonAt, FollowsDottedPaths) {
  json doc = json::parse(R"({"data": {"items": [1, {"id": 7}]}, "n": null})");
  EXPECT_EQ(*JsonAt(doc, ""), doc);
  EXPECT_EQ(*JsonAt(doc, "data.items.1.id"), 7);
  EXPECT_TRUE(JsonAt(doc, "n")->is_null());
  EXPECT_EQ(JsonAt(doc, "data.missing"), nullptr);
  EXPECT_EQ(JsonAt(doc, "data.items.9"), nullptr);
  EXPECT_EQ(JsonAt(doc, "data.items.x"), nullptr);
}

TEST(ResolveSameOrigin, KeepsLinksOnTheApisHost) {
  const std::string from = "http://127.0.0.1:8080/api/items?page=1";
  EXPECT_EQ(ResolveSameOrigin(from, "http://127.0.0.1:8080/api/items?page=2"),
            "http://127.0.0.1:8080/api/items?page=2");
  EXPECT_EQ(ResolveSameOrigin(from, "/api/items?page=2"), "http://127.0.0.1:8080/api/items?page=2");
  EXPECT_EQ(ResolveSameOrigin(from, "?page=2"), "http://127.0.0.1:8080/api/items?page=2");
  EXPECT_EQ(ResolveSameOrigin(from, "more?page=2"), "http://127.0.0.1:8080/api/more?page=2");
  EXPECT_EQ(ResolveSameOrigin(from, "more?p=2&return=http://a/b"),
            "http://127.0.0.1:8080/api/more?p=2&return=http://a/b");
  EXPECT_EQ(ResolveSameOrigin("https://API.x/a", "https://api.x:443/b"), "https://api.x:443/b");
  // Another host, port or scheme would receive the source's credentials: refused.
  EXPECT_EQ(ResolveSameOrigin(from, "http://evil.example/api/items?page=2"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "http://127.0.0.1:9090/api/items"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "https://127.0.0.1:8080/api/items"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "//evil.example/x"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "http://127.0.0.1:8080@evil.example/x"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "file:///etc/passwd"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, "/a b"), std::nullopt);
  EXPECT_EQ(ResolveSameOrigin(from, ""), std::nullopt);
}

TEST(CompareCursor, OrdersNumbersTimestampsAndTexts) {
  EXPECT_LT(CompareCursor(2, 10), 0);
  EXPECT_EQ(CompareCursor(3, 3.0), 0);
  // Beyond int64 (uint64), exactly.
  EXPECT_GT(
      CompareCursor(json(uint64_t{9223372036854775809u}), json(uint64_t{9223372036854775808u})), 0);
  EXPECT_GT(CompareCursor(json(uint64_t{9223372036854775808u}), 101), 0);
  // As instants: a fraction, an offset.
  EXPECT_LT(CompareCursor("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z"), 0);
  EXPECT_EQ(CompareCursor("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z"), 0);
  EXPECT_EQ(CompareCursor("2024-01-01T01:00:00+0100", "2024-01-01 00:00:00"), 0);
  EXPECT_LT(CompareCursor("2024-01-01T00:00:00.000001Z", "2024-01-01T00:00:00.00001Z"), 0);
  // Not a timestamp (a 13th month, a trailing word): compared as texts.
  EXPECT_GT(CompareCursor("2024-13-01T00:00:00Z", "2024-02-01T00:00:00Z"), 0);
  EXPECT_LT(CompareCursor("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z!"), 0);
  EXPECT_GT(CompareCursor("b", "a"), 0);
  try {
    CompareCursor(1, "1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "extract.bad_cursor");
  }
  EXPECT_THROW(CompareCursor(json::object(), 1), Error);
  EXPECT_THROW(CompareCursor(true, 1), Error);
}

TEST(LaggedCursor, SubtractsSeconds) {
  EXPECT_EQ(LaggedCursor(100, 30), 70);
  EXPECT_EQ(LaggedCursor(json(uint64_t{18446744073709551615u}), 5),
            json(uint64_t{18446744073709551610u}));
  EXPECT_EQ(LaggedCursor("2024-01-01T00:00:00Z", 3600), "2023-12-31T23:00:00Z");
  EXPECT_EQ(LaggedCursor("2024-01-01T00:00:00.250+01:00", 0.5), "2023-12-31T22:59:59.750000Z");
  EXPECT_EQ(LaggedCursor("abc", 0), "abc");  // no lag: as it was
  EXPECT_THROW(LaggedCursor("abc", 1), Error);
}

TEST(ParseRecords, RefusesWhatIsNoListOfRecords) {
  EXPECT_EQ(ParseRecords("http://h/x", R"({"data": [{"a": 1}, {}]})", "data").size(), 2u);
  EXPECT_EQ(ParseRecords("http://h/x", "[]", "").size(), 0u);
  auto code = [](const std::string& body, const std::string& path) {
    try {
      ParseRecords("http://h/x?token=s3cr3t", body, path);
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
      return e.code();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(code(R"({"data": [ {"id": 1,)", "data"), "extract.bad_page");      // cut off
  EXPECT_EQ(code(R"({"data": {"id": 1}})", "data"), "extract.bad_page");       // not a list
  EXPECT_EQ(code(R"({"items": []})", "data"), "extract.bad_page");             // not there
  EXPECT_EQ(code(R"({"data": []})", ""), "extract.bad_page");                  // the body: no list
  EXPECT_EQ(code("[" + std::string(400, '9') + "]", ""), "extract.bad_page");  // overflow
  EXPECT_EQ(code(std::string(100, '[') + std::string(100, ']'), ""), "extract.bad_page");
}

}  // namespace
}  // namespace sluice::extract
