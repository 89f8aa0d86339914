// Bad MNIST-format directories: every case is one InputError sentence naming the file or
// directory, thrown before anything is half-loaded.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "dlfs/data/mnist_format.hpp"
#include "support/idx_test_files.hpp"
#include "support/reliability_expect.hpp"

namespace dlfs::data {
namespace {

using namespace testing;
using dlfs::testing::expect_one_sentence_input_error;

// A valid 2x3-pixel directory: 4 training samples (raw files), 2 test samples (gzip files).
void write_valid(const TempDir& dir) {
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4, 2, 3}, ramp(24)));
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({4}, {0, 2, 1, 2}));
  write_gzip(dir.file(std::string(kTestImagesFile) + ".gz"), idx_bytes({2, 2, 3}, ramp(12)));
  write_gzip(dir.file(std::string(kTestLabelsFile) + ".gz"), idx_bytes({2}, {2, 0}));
}

TEST(BadDatasetDir, TheValidDirectoryLoads) {
  // The cases below differ from this one in a single file.
  TempDir dir;
  write_valid(dir);
  EXPECT_EQ(load_mnist_format(dir.str()).train.size(), 4);
}

TEST(BadDatasetDir, MissingDirectory) {
  TempDir dir;
  const std::string missing = dir.file("no-such-dir");
  expect_one_sentence_input_error([&] { load_mnist_format(missing); }, "'" + missing + "'",
                                  {"does not exist or is not a directory"});
}

TEST(BadDatasetDir, FileInsteadOfDirectory) {
  TempDir dir;
  write_valid(dir);
  const std::string file = dir.file(kTrainLabelsFile);
  expect_one_sentence_input_error([&] { load_mnist_format(file); }, "'" + file + "'",
                                  {"is not a directory"});
}

TEST(BadDatasetDir, EmptyDirectoryNamesAllFourFiles) {
  TempDir dir;
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, "'" + dir.str() + "'",
                                  {"lacks 4 of the 4 MNIST-format files", kTrainImagesFile,
                                   kTrainLabelsFile, kTestImagesFile, kTestLabelsFile});
}

TEST(BadDatasetDir, TwoMissingFilesAreBothNamed) {
  TempDir dir;
  write_valid(dir);
  std::filesystem::remove(dir.file(kTrainLabelsFile));
  std::filesystem::remove(dir.file(std::string(kTestImagesFile) + ".gz"));
  const std::string m = expect_one_sentence_input_error(
      [&] { load_mnist_format(dir.str()); }, "'" + dir.str() + "'",
      {"lacks 2 of the 4", std::string(kTrainLabelsFile) + ", " + kTestImagesFile});
  EXPECT_EQ(m.find(kTrainImagesFile), std::string::npos) << m;  // present files are not listed
}

TEST(BadDatasetDir, OneMissingFileIsNamed) {
  TempDir dir;
  write_valid(dir);
  std::filesystem::remove(dir.file(kTrainImagesFile));
  expect_one_sentence_input_error(
      [&] { load_mnist_format(dir.str()); }, "'" + dir.str() + "'",
      {"has neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"});
}

TEST(BadDatasetDir, TrainCountsDisagree) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({3}, {0, 1, 2}));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); },
                                  dir.file(kTrainLabelsFile) + "' holds 3 labels",
                                  {dir.file(kTrainImagesFile) + "' holds 4 images"});
}

TEST(BadDatasetDir, TestCountsDisagree) {
  TempDir dir;
  write_valid(dir);
  const std::string labels = dir.file(std::string(kTestLabelsFile) + ".gz");
  write_gzip(labels, idx_bytes({5}, {0, 1, 2, 1, 0}));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); },
                                  labels + "' holds 5 labels", {"holds 2 images"});
}

TEST(BadDatasetDir, EmptyFileInside) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainImagesFile), {});
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainImagesFile),
                                  {"is empty"});
}

TEST(BadDatasetDir, ZeroImages) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({0, 2, 3}, {}));
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({0}, {}));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainImagesFile),
                                  {"holds no images"});
}

TEST(BadDatasetDir, ZeroSizedImages) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4, 0, 3}, {}));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainImagesFile),
                                  {"declares empty 0 x 3 images"});
}

TEST(BadDatasetDir, LabelsWhereImagesBelong) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4}, {0, 1, 2, 3}));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainImagesFile),
                                  {"has 1 dimension where 3 are expected"});
}

TEST(BadDatasetDir, CorruptGzipInside) {
  TempDir dir;
  write_valid(dir);
  const std::string path = dir.file(std::string(kTestImagesFile) + ".gz");
  Bytes gz = gzip_bytes(idx_bytes({2, 2, 3}, ramp(12)));
  gz[gz.size() - 5] ^= 0xFF;  // inside the CRC-32 trailer
  write_raw(path, gz);
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, path,
                                  {"is not valid gzip data"});
}

TEST(BadDatasetDir, TruncatedDataInside) {
  TempDir dir;
  write_valid(dir);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4, 2, 3}, ramp(23)));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainImagesFile),
                                  {"only 23 bytes of data follow"});
}

TEST(BadDatasetDir, FifoIsRefusedWithoutHanging) {
  // Opening a FIFO for reading blocks until a writer comes: the reader must not even open it.
  TempDir dir;
  write_valid(dir);
  std::filesystem::remove(dir.file(kTrainLabelsFile));
  ASSERT_EQ(::mkfifo(dir.file(kTrainLabelsFile).c_str(), 0644), 0);
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainLabelsFile),
                                  {"is not a regular file"});
}

TEST(BadDatasetDir, SubdirectoryNamedLikeAFile) {
  TempDir dir;
  write_valid(dir);
  std::filesystem::remove(dir.file(kTrainLabelsFile));
  std::filesystem::create_directory(dir.file(kTrainLabelsFile));
  expect_one_sentence_input_error([&] { load_mnist_format(dir.str()); }, dir.file(kTrainLabelsFile),
                                  {"is not a regular file"});
}

}  // namespace
}  // namespace dlfs::data
