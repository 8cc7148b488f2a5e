#include "pg/copy_text.h"

#include <gtest/gtest.h>

namespace sluice::pg {
namespace {

std::string Encoded(std::string_view value) {
  std::string out;
  AppendCopyText(out, value);
  return out;
}

TEST(CopyTextTest, EscapesEverySpecialByteAsCopyToDoes) {
  EXPECT_EQ(Encoded("\\"), "\\\\");
  EXPECT_EQ(Encoded("\b"), "\\b");
  EXPECT_EQ(Encoded("\f"), "\\f");
  EXPECT_EQ(Encoded("\n"), "\\n");
  EXPECT_EQ(Encoded("\r"), "\\r");
  EXPECT_EQ(Encoded("\t"), "\\t");
  EXPECT_EQ(Encoded("\v"), "\\v");
  EXPECT_EQ(Encoded("a\tb\nc\\d\r\ne"), "a\\tb\\nc\\\\d\\r\\ne");
  // Every other byte passes through, other control characters and DEL included.
  for (int b = 1; b < 256; ++b) {
    char c = static_cast<char>(b);
    if (std::string_view("\\\b\f\n\r\t\v").find(c) != std::string_view::npos) continue;
    EXPECT_EQ(Encoded(std::string(1, c)), std::string(1, c)) << "byte " << b;
  }
}

TEST(CopyTextTest, EmptyIsNotNullAndNullTextIsNotNull) {
  std::string out;
  AppendCopyText(out, "");
  EXPECT_EQ(out, "");
  AppendCopyNull(out);
  EXPECT_EQ(out, "\\N");
  // The text \N is a value, not NULL: its backslash is escaped. So are \. (end of data) and a
  // backslash before an octal or hex digit.
  EXPECT_EQ(Encoded("\\N"), "\\\\N");
  EXPECT_EQ(Encoded("\\."), "\\\\.");
  EXPECT_EQ(Encoded("\\x41\\101"), "\\\\x41\\\\101");
}

TEST(CopyTextTest, AppendsAndPassesUtf8AndLongValuesThrough) {
  std::string out = "prefix|";
  AppendCopyText(out, "héllo wörld ✓ 日本 🦆 'quoted' \"double\"");
  EXPECT_EQ(out, "prefix|héllo wörld ✓ 日本 🦆 'quoted' \"double\"");
  std::string plain(1 << 20, 'x');
  EXPECT_EQ(Encoded(plain), plain);
  std::string mixed;
  std::string expected;
  for (int i = 0; i < 100000; ++i) {
    mixed += "ab\tc\\";
    expected += "ab\\tc\\\\";
  }
  EXPECT_EQ(Encoded(mixed), expected);
  // A special byte at either end.
  EXPECT_EQ(Encoded("\nab\n"), "\\nab\\n");
}

}  // namespace
}  // namespace sluice::pg
