#include "catalog/csv_text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

namespace sluice::catalog {
namespace {

using project::CsvEncoding;

struct Converted {
  std::optional<TextFault> fault;
  std::string utf8;
};

Converted Convert(const std::string& bytes, CsvEncoding encoding, int64_t max_line = 1024) {
  std::istringstream in(bytes);
  std::ostringstream out;
  Converted c;
  c.fault = CheckText(in, encoding, max_line, &out);
  c.utf8 = out.str();
  return c;
}

TEST(CsvText, Windows1252BecomesUtf8) {
  auto c = Convert(
      "id,name\n1,caf\xe9 \x80"
      "5\n2,it\x92s\n",
      CsvEncoding::kWindows1252);
  ASSERT_FALSE(c.fault) << c.fault->reason;
  EXPECT_EQ(c.utf8, "id,name\n1,caf\u00e9 \u20ac5\n2,it\u2019s\n");
}

TEST(CsvText, Windows1252ByteWithoutCharacterNamesLineAndByte) {
  auto c = Convert(
      "id,name\n1,ok\n2,ab\x81"
      "c\n",
      CsvEncoding::kWindows1252);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->line, 3);
  EXPECT_EQ(c.fault->byte, 5);
  EXPECT_EQ(c.fault->reason, "invalid Windows-1252 at line 3 byte 5 (0x81 has no character)");
}

TEST(CsvText, Utf16ByItsByteOrderMark) {
  const std::string le(
      "\xff\xfe"
      "a\0,\0\xac\x20\r\0\n\0"
      "b\0",
      14);
  auto c = Convert(le, CsvEncoding::kUtf16);
  ASSERT_FALSE(c.fault) << c.fault->reason;
  EXPECT_EQ(c.utf8, "a,\u20ac\nb\n");  // the CR goes with the line break
  const std::string be("\xfe\xff\0a\0\n\xd8\x3d\xde\x00", 10);
  c = Convert(be, CsvEncoding::kUtf16);
  ASSERT_FALSE(c.fault) << c.fault->reason;
  EXPECT_EQ(c.utf8, "a\n\U0001F600\n");
}

TEST(CsvText, Utf16Faults) {
  auto c = Convert(std::string("a\0\n\0", 4), CsvEncoding::kUtf16);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->reason,
            "no UTF-16 byte order mark (FF FE or FE FF) at the start of the file: encoding utf-16 "
            "needs one; declare utf-16le or utf-16be for a file without it");
  // Declared byte order, no mark: fine; a contrary mark: a fault.
  c = Convert(std::string("a\0\n\0", 4), CsvEncoding::kUtf16Le);
  ASSERT_FALSE(c.fault) << c.fault->reason;
  EXPECT_EQ(c.utf8, "a\n");
  c = Convert(std::string("\xfe\xff\0a", 4), CsvEncoding::kUtf16Le);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->reason,
            "the file's byte order mark says utf-16be but the source says utf-16le");
  // An odd number of bytes: the last character is cut.
  c = Convert(std::string("\xff\xfe"
                          "a\0\n\0b\0c",
                          9),
              CsvEncoding::kUtf16);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->reason,
            "invalid UTF-16 at line 2 byte 3: the file ends inside a character (it holds an odd "
            "number of bytes)");
  // A low surrogate alone.
  c = Convert(std::string("\xff\xfe"
                          "a\0\x00\xdc",
                          6),
              CsvEncoding::kUtf16);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->line, 1);
  EXPECT_EQ(c.fault->byte, 3);
  // Only a byte order mark, or nothing: no line, no fault.
  EXPECT_FALSE(Convert("\xff\xfe", CsvEncoding::kUtf16).fault);
  EXPECT_FALSE(Convert("", CsvEncoding::kUtf16Be).fault);
}

TEST(CsvText, LineLongerThanTheLimit) {
  std::string text = "id,name\n1,a\n2,b\n3,c\n4," + std::string(2000, 'x') + "\n5,e\n";
  for (auto encoding : {CsvEncoding::kUtf8, CsvEncoding::kLatin1, CsvEncoding::kWindows1252}) {
    auto c = Convert(text, encoding, 1024);
    ASSERT_TRUE(c.fault);
    EXPECT_EQ(c.fault->line, 5);
    EXPECT_EQ(c.fault->reason, "line 5 is longer than max_line_size (1024 bytes)");
  }
  // Exactly the limit, with CRLF: fine; one more byte, on the last line without a break: not.
  EXPECT_FALSE(Convert("12345\r\n", CsvEncoding::kUtf8, 5).fault);
  auto c = Convert("1\n123456", CsvEncoding::kUtf8, 5);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->line, 2);
  // A line longer than a read buffer is found without holding it all.
  c = Convert("a\n" + std::string(3 << 20, 'y'), CsvEncoding::kUtf8, 1 << 20);
  ASSERT_TRUE(c.fault);
  EXPECT_EQ(c.fault->line, 2);
}

TEST(CsvText, NativeEncodingsAreNotCopied) {
  auto c = Convert("id\n\xff\n", CsvEncoding::kUtf8);
  EXPECT_FALSE(c.fault);  // invalid UTF-8 is the job's to quarantine, line by line
  EXPECT_EQ(c.utf8, "");
  EXPECT_FALSE(ReadsCopy(CsvEncoding::kLatin1));
  EXPECT_TRUE(ReadsCopy(CsvEncoding::kWindows1252));
  EXPECT_TRUE(ReadsCopy(CsvEncoding::kUtf16Be));
}

TEST(CsvText, LocatesInvalidUtf8) {
  std::istringstream in(
      "id,name\n1,ok\n2,abcd\xff"
      "e\n3,\xc3\xa9\n4,\xe0\x80\x80\n5,\xed\xa0\x80\n6,\xc3\n");
  auto found = LocateInvalidUtf8(in, {2, 3, 4, 5, 6, 7}, 1024);
  std::map<int64_t, int64_t> want = {{3, 7}, {5, 3}, {6, 3}, {7, 3}};  // overlong, surrogate, cut
  EXPECT_EQ(found, want);
}

TEST(CsvText, ReadingOptionsRoundTrip) {
  project::Source source;
  source.encoding = CsvEncoding::kWindows1252;
  source.max_line_size = 4096;
  source.null_values = {"", "NA"};
  source.skip_lines = 2;
  source.date_format = "%d/%m/%Y";
  nlohmann::json dialect = {{"delim", ","}, {"dateformat", "%Y-%m-%d"}};
  RecordReadingOptions(source, dialect);
  EXPECT_EQ(EncodingOf(dialect), CsvEncoding::kWindows1252);
  EXPECT_EQ(MaxLineSizeOf(dialect), 4096);
  EXPECT_EQ(dialect["dateformat"], "%d/%m/%Y");
  // A copy is UTF-8: no encoding; its lines may have grown 3 times.
  std::vector<std::string> want = {"max_line_size = 12290", "skip = 2", "nullstr = ['', 'NA']"};
  EXPECT_EQ(ReadingArgs(dialect), want);
  source = project::Source{};
  source.encoding = CsvEncoding::kLatin1;
  RecordReadingOptions(source, dialect);
  want = {"encoding = 'latin-1'", fmt::format("max_line_size = {}", 3 * (2 << 20) + 2)};
  EXPECT_EQ(ReadingArgs(dialect), want);
  EXPECT_EQ(dialect["dateformat"], "%d/%m/%Y");  // detected formats stay
}

}  // namespace
}  // namespace sluice::catalog
