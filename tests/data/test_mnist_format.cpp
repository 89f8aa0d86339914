#include <gtest/gtest.h>

#include <filesystem>

#include "dlfs/data/mnist_format.hpp"
#include "dlfs/runtime/error.hpp"
#include "support/idx_test_files.hpp"

namespace dlfs::data {
namespace {

using namespace testing;

// A 2x3 image format: 4 training samples (raw files) and 2 test samples (gzip files).
void write_tiny_mnist(const TempDir& dir) {
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4, 2, 3}, ramp(24, 0)));
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({4}, {0, 2, 1, 2}));
  write_gzip(dir.file(std::string(kTestImagesFile) + ".gz"), idx_bytes({2, 2, 3}, ramp(12, 250)));
  write_gzip(dir.file(std::string(kTestLabelsFile) + ".gz"), idx_bytes({2}, {2, 0}));
}

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(MnistFormat, LoadsTheFourFilesRawAndGzipWithExactValues) {
  TempDir dir;
  write_tiny_mnist(dir);
  MnistFormatData d = load_mnist_format(dir.str());
  EXPECT_EQ(d.train.images.shape(), Shape({4, 1, 2, 3}));
  EXPECT_EQ(d.test.images.shape(), Shape({2, 1, 2, 3}));
  EXPECT_EQ(d.train.labels.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 2, 1, 2}));
  EXPECT_EQ(d.test.labels.to_vector<std::int32_t>(), (std::vector<std::int32_t>{2, 0}));
  EXPECT_EQ(d.train.num_classes, 3);  // the largest training label (2) + 1
  EXPECT_EQ(d.test.num_classes, 3);
  const std::vector<float> train = d.train.images.to_vector<float>();
  for (int i = 0; i < 24; ++i) EXPECT_EQ(train[i], static_cast<float>(i) / 255.0f);
  const std::vector<float> test = d.test.images.to_vector<float>();
  EXPECT_EQ(test[0], 250.0f / 255.0f);
  EXPECT_EQ(test[5], 255.0f / 255.0f);
  EXPECT_EQ(test[6], 0.0f);  // 256 wraps to 0
  EXPECT_EQ(test[11], 5.0f / 255.0f);
}

TEST(MnistFormat, LimitKeepsTheFirstTrainingSamples) {
  TempDir dir;
  write_tiny_mnist(dir);
  MnistFormatData d = load_mnist_format(dir.str(), 3);
  EXPECT_EQ(d.train.size(), 3);
  EXPECT_EQ(d.train.labels.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 2, 1}));
  EXPECT_EQ(d.train.images.to_vector<float>()[17], 17.0f / 255.0f);
  EXPECT_EQ(d.test.size(), 2);  // the test set is never limited
  EXPECT_EQ(load_mnist_format(dir.str(), 100).train.size(), 4);
  EXPECT_NE(message_of([&] { load_mnist_format(dir.str(), -1); }).find("-1"), std::string::npos);
}

TEST(MnistFormat, MissingDirectoryIsNamed) {
  const std::string m = message_of([] { load_mnist_format("/nonexistent/dlfs-data"); });
  EXPECT_NE(m.find("'/nonexistent/dlfs-data' does not exist"), std::string::npos) << m;
}

TEST(MnistFormat, MissingFileIsNamedWithTheDirectory) {
  TempDir dir;
  write_tiny_mnist(dir);
  std::filesystem::remove(dir.file(std::string(kTestLabelsFile) + ".gz"));
  const std::string m = message_of([&] { load_mnist_format(dir.str()); });
  EXPECT_NE(m.find(dir.str()), std::string::npos) << m;
  EXPECT_NE(m.find("neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz"),
            std::string::npos)
      << m;
}

TEST(MnistFormat, CountsThatDisagreeNameBothFiles) {
  TempDir dir;
  write_tiny_mnist(dir);
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({3}, {0, 1, 2}));
  const std::string m = message_of([&] { load_mnist_format(dir.str()); });
  EXPECT_NE(m.find(dir.file(kTrainLabelsFile) + "' holds 3 labels"), std::string::npos) << m;
  EXPECT_NE(m.find(dir.file(kTrainImagesFile) + "' holds 4 images"), std::string::npos) << m;
}

TEST(MnistFormat, ABadFileInsideTheDirectoryIsNamed) {
  TempDir dir;
  write_tiny_mnist(dir);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({4, 2, 3}, ramp(23)));
  const std::string m = message_of([&] { load_mnist_format(dir.str()); });
  EXPECT_NE(m.find(dir.file(kTrainImagesFile)), std::string::npos) << m;
  EXPECT_NE(m.find("only 23 bytes of data follow"), std::string::npos) << m;
}

TEST(MnistFormat, TestImagesOfAnotherSizeAreRefused) {
  TempDir dir;
  write_tiny_mnist(dir);
  write_gzip(dir.file(std::string(kTestImagesFile) + ".gz"), idx_bytes({2, 3, 2}, ramp(12)));
  const std::string m = message_of([&] { load_mnist_format(dir.str()); });
  EXPECT_NE(m.find("are 3 x 2 but training images"), std::string::npos) << m;
}

TEST(MnistFormat, RawFileWinsOverGzip) {
  TempDir dir;
  write_tiny_mnist(dir);
  write_gzip(dir.file(std::string(kTrainLabelsFile) + ".gz"), idx_bytes({1}, {9}));
  EXPECT_EQ(find_mnist_file(dir.str(), kTrainLabelsFile), dir.file(kTrainLabelsFile));
  EXPECT_EQ(find_mnist_file(dir.str(), kTestLabelsFile),
            dir.file(std::string(kTestLabelsFile) + ".gz"));
}

TEST(MnistFormat, RealFashionMnistIfInstalled) {
  if (!std::filesystem::exists(std::string(kDefaultMnistDirectory) + "/" + kTrainImagesFile +
                               ".gz"))
    GTEST_SKIP() << kDefaultMnistDirectory << " is not installed (dataset-fashion-mnist)";
  MnistFormatData d = load_mnist_format(kDefaultMnistDirectory, 1000);
  EXPECT_EQ(d.train.images.shape(), Shape({1000, 1, 28, 28}));
  EXPECT_EQ(d.test.images.shape(), Shape({10000, 1, 28, 28}));
  EXPECT_EQ(d.train.num_classes, 10);
  // Fashion-MNIST's first training label is 9 (ankle boot), its first test label 9 too.
  EXPECT_EQ(d.train.labels.to_vector<std::int32_t>()[0], 9);
  EXPECT_EQ(d.test.labels.to_vector<std::int32_t>()[0], 9);
}

}  // namespace
}  // namespace dlfs::data
