#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "dlfs/data/idx_reader.hpp"
#include "dlfs/runtime/error.hpp"
#include "support/idx_test_files.hpp"

namespace dlfs::data {
namespace {

using namespace testing;

// The call must throw InputError whose message is one sentence (no newline, ends with '.'),
// names `path` and contains `phrase`.
void expect_input_error(const std::function<void()>& call, const std::string& path,
                        const std::string& phrase) {
  try {
    call();
    ADD_FAILURE() << "no InputError for " << path;
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(phrase), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    ASSERT_FALSE(m.empty());
    EXPECT_EQ(m.back(), '.') << m;
  }
}

TEST(IdxReader, ReadsARawIdx3FileExactly) {
  TempDir dir;
  const std::string path = dir.file("images-idx3-ubyte");
  write_raw(path, idx_bytes({2, 3, 4}, ramp(24, 200)));
  IdxArray a = read_idx_ubyte(path, 3);
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(a.values, ramp(24, 200));  // wraps past 255: 200..255, 0..
  EXPECT_EQ(a.numel(), 24);
}

TEST(IdxReader, ReadsAGzipIdx1FileExactly) {
  TempDir dir;
  const std::string path = dir.file("labels-idx1-ubyte.gz");
  write_gzip(path, idx_bytes({5}, {3, 1, 4, 1, 5}));
  IdxArray a = read_idx_ubyte(path, 1);
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(a.values, (Bytes{3, 1, 4, 1, 5}));
}

TEST(IdxReader, DetectsGzipByMagicNotByName) {
  TempDir dir;
  const std::string gz_named_raw = dir.file("raw.gz");
  const std::string raw_named_gz = dir.file("gz-without-suffix");
  write_raw(gz_named_raw, idx_bytes({2}, {7, 8}));
  write_gzip(raw_named_gz, idx_bytes({2}, {9, 10}));
  EXPECT_EQ(read_idx_ubyte(gz_named_raw, 1).values, (Bytes{7, 8}));
  EXPECT_EQ(read_idx_ubyte(raw_named_gz, 1).values, (Bytes{9, 10}));
}

TEST(IdxReader, ReadsMultiMemberGzipAndLargeData) {
  TempDir dir;
  const std::string path = dir.file("big-idx3-ubyte.gz");
  const Bytes whole = idx_bytes({3, 300, 300}, ramp(270000, 17));
  // Two gzip members back to back, split inside the data, as `cat a.gz b.gz` would give.
  Bytes first(whole.begin(), whole.begin() + 100001), second(whole.begin() + 100001, whole.end());
  Bytes file = gzip_bytes(first);
  const Bytes tail = gzip_bytes(second);
  file.insert(file.end(), tail.begin(), tail.end());
  write_raw(path, file);
  IdxArray a = read_idx_ubyte(path, 3);
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{3, 300, 300}));
  EXPECT_EQ(a.values, ramp(270000, 17));
}

TEST(IdxReader, AcceptsAnyDimensionCountWhenNoneIsExpected) {
  TempDir dir;
  const std::string path = dir.file("x");
  write_raw(path, idx_bytes({2, 1, 2, 1}, {1, 2, 3, 4}));
  EXPECT_EQ(read_idx_ubyte(path, 0).dims, (std::vector<std::int64_t>{2, 1, 2, 1}));
}

TEST(IdxReader, MissingFile) {
  TempDir dir;
  const std::string path = dir.file("nothing-here-idx1-ubyte");
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "does not exist");
}

TEST(IdxReader, DirectoryInsteadOfFile) {
  TempDir dir;
  expect_input_error([&] { read_idx_ubyte(dir.str(), 1); }, dir.str(), "not a regular file");
}

TEST(IdxReader, EmptyFile) {
  TempDir dir;
  const std::string path = dir.file("empty");
  write_raw(path, {});
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "is empty");
}

TEST(IdxReader, EmptyGzipContent) {
  TempDir dir;
  const std::string path = dir.file("empty.gz");
  write_gzip(path, {});
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "fewer than the 4-byte magic");
}

TEST(IdxReader, WrongMagic) {
  TempDir dir;
  const std::string path = dir.file("text");
  write_raw(path, {'h', 'e', 'l', 'l', 'o'});
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "wrong magic number");
}

TEST(IdxReader, WrongDtypeByte) {
  TempDir dir;
  const std::string path = dir.file("floats");
  write_raw(path, idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "dtype byte 0x0d (float32)");
}

TEST(IdxReader, WrongDimensionCount) {
  TempDir dir;
  const std::string path = dir.file("labels-not-images");
  write_raw(path, idx_bytes({4}, {1, 2, 3, 4}));
  expect_input_error([&] { read_idx_ubyte(path, 3); }, path, "1 dimension where 3 are expected");
}

TEST(IdxReader, TruncatedHeaderRawAndGzip) {
  TempDir dir;
  Bytes cut = idx_bytes({2, 3, 4}, {});
  cut.resize(9);  // magic and 5 of the 12 dimension bytes
  const std::string raw = dir.file("cut"), gz = dir.file("cut.gz");
  write_raw(raw, cut);
  write_gzip(gz, cut);
  expect_input_error([&] { read_idx_ubyte(raw, 3); }, raw, "only 5 bytes of the 12 dimension");
  expect_input_error([&] { read_idx_ubyte(gz, 3); }, gz, "only 5 bytes of the 12 dimension");
}

TEST(IdxReader, TruncatedDataRawAndGzip) {
  TempDir dir;
  const Bytes short_data = idx_bytes({2, 3, 4}, ramp(20));
  const std::string raw = dir.file("short"), gz = dir.file("short.gz");
  write_raw(raw, short_data);
  write_gzip(gz, short_data);
  expect_input_error([&] { read_idx_ubyte(raw, 3); }, raw, "only 20 bytes of data follow");
  expect_input_error([&] { read_idx_ubyte(gz, 3); }, gz, "only 20 bytes of data follow");
}

TEST(IdxReader, DimensionProductOverflows) {
  TempDir dir;
  const std::string path = dir.file("overflow");
  write_raw(path, idx_bytes({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, ramp(8)));
  expect_input_error([&] { read_idx_ubyte(path, 3); }, path, "overflows");
}

TEST(IdxReader, DimensionProductExceedsTheFile) {
  TempDir dir;
  const std::string raw = dir.file("huge"), gz = dir.file("huge.gz");
  // 2^40 bytes claimed: refused before any allocation, for raw files by the file size, for gzip
  // ones by the most that deflate can inflate the file to (1032 times its size).
  const Bytes claim = idx_bytes({65536, 65536, 256}, ramp(100));
  write_raw(raw, claim);
  write_gzip(gz, claim);
  expect_input_error([&] { read_idx_ubyte(raw, 3); }, raw, "only 100 bytes of data follow");
  expect_input_error([&] { read_idx_ubyte(gz, 3); }, gz, "compressed bytes can hold");
}

TEST(IdxReader, GzipClaimWithinTheDeflateBoundIsReadPieceByPiece) {
  TempDir dir;
  const std::string gz = dir.file("claims-more.gz");
  // 100 KB claimed, 1000 bytes present: plausible for the compressed size, so the reader
  // inflates what there is and then reports the shortfall.
  write_gzip(gz, idx_bytes({100, 1000}, ramp(1000)));
  expect_input_error([&] { read_idx_ubyte(gz, 2); }, gz, "only 1000 bytes of data follow");
}

TEST(IdxReader, HighlyCompressibleDataWithinTheBoundReads) {
  TempDir dir;
  const std::string gz = dir.file("zeros.gz");
  // 4 MB of zeros compress about 1000:1, close to deflate's limit: still accepted.
  write_gzip(gz, idx_bytes({4, 1000, 1000}, Bytes(4000000, 0)));
  IdxArray a = read_idx_ubyte(gz, 3);
  EXPECT_EQ(a.numel(), 4000000);
  EXPECT_EQ(a.values[3999999], 0);
}

TEST(IdxReader, BytesAfterTheData) {
  TempDir dir;
  const std::string path = dir.file("long");
  write_raw(path, idx_bytes({2}, {1, 2, 3}));
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "bytes after the 2 bytes of data");
}

TEST(IdxReader, CorruptGzip) {
  TempDir dir;
  const std::string path = dir.file("corrupt.gz");
  Bytes gz = gzip_bytes(idx_bytes({2, 30, 30}, ramp(1800)));
  for (std::size_t i = 12; i < gz.size() - 8; i += 3) gz[i] ^= 0x5A;
  write_raw(path, gz);
  expect_input_error([&] { read_idx_ubyte(path, 3); }, path, "not valid gzip data");
}

TEST(IdxReader, GzipWithBadChecksum) {
  TempDir dir;
  const std::string path = dir.file("crc.gz");
  Bytes gz = gzip_bytes(idx_bytes({4}, {1, 2, 3, 4}));
  gz[gz.size() - 8] ^= 0xFF;  // first byte of the CRC-32 trailer
  write_raw(path, gz);
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "not valid gzip data");
}

TEST(IdxReader, TruncatedGzipStream) {
  TempDir dir;
  const std::string path = dir.file("cut.gz");
  Bytes gz = gzip_bytes(idx_bytes({2, 30, 30}, ramp(1800)));
  gz.resize(gz.size() / 2);
  write_raw(path, gz);
  expect_input_error([&] { read_idx_ubyte(path, 3); }, path, "compressed stream ends early");
}

TEST(IdxReader, GzipMagicWithGarbage) {
  TempDir dir;
  const std::string path = dir.file("fake.gz");
  write_raw(path, {0x1f, 0x8b, 0x00, 0x00, 0x00});
  expect_input_error([&] { read_idx_ubyte(path, 1); }, path, "not valid gzip data");
}

TEST(IdxReader, RealFashionMnistTestLabels) {
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is not installed (Debian package dataset-fashion-mnist)";
  IdxArray a = read_idx_ubyte(path, 1);
  ASSERT_EQ(a.dims, (std::vector<std::int64_t>{10000}));
  std::vector<int> per_class(10, 0);
  for (std::uint8_t y : a.values) {
    ASSERT_LT(y, 10);
    ++per_class[y];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000) << "class " << c;  // balanced
}

}  // namespace
}  // namespace dlfs::data
