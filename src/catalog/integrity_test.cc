#include "catalog/integrity.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>

#include "common/files.h"

namespace sluice::catalog {
namespace {

class Integrity : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-integrity-" + UniqueSuffix());
    fs::create_directories(dir_);
    for (int i = 0; i < 20000; ++i) text_ += "row " + std::to_string(i) + ",some text\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Gzip(const std::string& text) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, text.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }
  std::string Zstd(const std::string& text, bool checksum) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
    std::string out(ZSTD_compressBound(text.size()), '\0');
    size_t n = ZSTD_compress2(c, out.data(), out.size(), text.data(), text.size());
    ZSTD_freeCCtx(c);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
  }
  std::string Damage(const std::string& name, const std::string& bytes) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return CompressedDamage(path.string(), CompressionOf(name));
  }

  fs::path dir_;
  std::string text_;
};

TEST_F(Integrity, GzipTrailerAndLength) {
  std::string gz = Gzip(text_);
  EXPECT_EQ(Damage("a.csv.gz", gz), "");
  EXPECT_EQ(Damage("two.csv.gz", gz + gz), "");  // members one after the other are one text
  EXPECT_EQ(Damage("cut.csv.gz", gz.substr(0, gz.size() / 2)).substr(0, 49),
            "the file ends inside its gzip data, before the tr");
  // Only the trailer missing: every byte of text is there, and it is still cut short.
  EXPECT_NE(Damage("trailer.csv.gz", gz.substr(0, gz.size() - 8)).find("it was cut short"),
            std::string::npos);
  std::string crc = gz, length = gz;
  crc[crc.size() - 8] ^= 1;
  length[length.size() - 1] ^= 1;
  EXPECT_EQ(Damage("crc.csv.gz", crc), "the gzip data is corrupt (incorrect data check) after " +
                                           std::to_string(text_.size()) + " bytes of text");
  EXPECT_NE(Damage("len.csv.gz", length).find("incorrect length check"), std::string::npos);
  EXPECT_EQ(Damage("tail.csv.gz", gz + "junk"),
            "the file goes on after its gzip data with bytes that are not gzip");
  EXPECT_EQ(Damage("plain.csv", "id\n1\n"), "");  // not compressed: nothing to verify
}

TEST_F(Integrity, ZstdChecksumAndEnd) {
  for (bool checksum : {true, false}) {
    std::string zst = Zstd(text_, checksum);
    EXPECT_EQ(Damage("a.csv.zst", zst), "");
    EXPECT_NE(Damage("cut.csv.zst", zst.substr(0, zst.size() - 3)).find("it was cut short"),
              std::string::npos);
  }
  std::string zst = Zstd(text_, true);
  zst[zst.size() - 1] ^= 1;  // the last byte of the content checksum
  EXPECT_NE(Damage("sum.csv.zst", zst).find("doesn't match checksum"), std::string::npos);
}

TEST_F(Integrity, ParquetFrame) {
  // The frame of a Parquet file: magic, pages, footer, footer length, magic.
  std::string footer = "footer-bytes";
  std::string whole = "PAR1" + std::string(100, 'p') + footer +
                      std::string{static_cast<char>(footer.size()), 0, 0, 0} + "PAR1";
  auto damage = [&](const std::string& bytes) {
    fs::path path = dir_ / "a.parquet";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return ParquetDamage(path.string());
  };
  EXPECT_EQ(damage(whole), "");
  EXPECT_EQ(damage(whole.substr(0, 60)),
            "the file does not end with Parquet's footer (PAR1): it was cut short");
  EXPECT_EQ(damage("PAR1"), "the file holds 4 bytes, too few for Parquet");
  EXPECT_EQ(damage("id,v\n1,a\n2,b\nPAR1"), "the file does not start as Parquet (PAR1)");
  std::string long_footer = whole;
  long_footer[long_footer.size() - 6] = 1;  // footer length + 65,536
  EXPECT_EQ(damage(long_footer), "its Parquet footer claims 65548 bytes, more than the file holds");
}

}  // namespace
}  // namespace sluice::catalog
