// The class count of an MNIST-format dataset: one damaged label byte must not widen a 10-class
// model to 201 classes, test labels must fall inside the training classes, --classes N (or a
// checkpoint's count) allows unused classes, and every refusal names the file, index and value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dlfs/data/byte_source.hpp"
#include "dlfs/data/mnist_format.hpp"
#include "dlfs/data/normalization.hpp"
#include "support/idx_test_files.hpp"
#include "support/reliability_expect.hpp"

namespace dlfs::data {
namespace {

using namespace testing;
using dlfs::testing::expect_one_sentence_input_error;
namespace fs = std::filesystem;

// 0, 1, ..., classes - 1, 0, 1, ... (n labels): every class used.
Bytes cycle(std::size_t n, int classes) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % classes);
  return b;
}

// The whole message of the InputError `call` throws ("" when it throws none).
std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kPath = "/data/train-labels-idx1-ubyte";

TEST(ClassCount, IsTheLargestTrainingLabelPlusOneWhenEveryClassIsUsed) {
  EXPECT_EQ(training_class_count({0, 2, 1, 2}, {}, kPath), 3);
  EXPECT_EQ(training_class_count(cycle(100, 10), {}, kPath), 10);
  EXPECT_EQ(training_class_count({0}, {}, kPath), 1);
}

TEST(ClassCount, OneDamagedByteIsRefusedNamingFileIndexAndValue) {
  Bytes labels = cycle(40, 10);
  labels[13] = 200;
  labels[27] = 200;  // the first index holding the value is named
  EXPECT_EQ(message_of([&] { training_class_count(labels, {}, kPath); }),
            "Training labels '/data/train-labels-idx1-ubyte' hold label 200 at index 13, which "
            "leaves classes 10-199 without a training image (a damaged file?); if the data "
            "really has 201 classes, pass --classes 201.");
  expect_one_sentence_input_error([&] { training_class_count(labels, {}, kPath); }, kPath, {});
}

TEST(ClassCount, AClassMissingInTheMiddleIsNamed) {
  EXPECT_EQ(message_of([] {
              training_class_count({0, 1, 2, 4, 4}, {}, kPath);
            }),
            "Training labels '/data/train-labels-idx1-ubyte' hold label 4 at index 3, which "
            "leaves class 3 without a training image (a damaged file?); if the data really has "
            "5 classes, pass --classes 5.");
}

TEST(ClassCount, ManyUnusedRangesAreShortened) {
  const std::string m = message_of([] {
    training_class_count({0, 2, 4, 6, 8, 10, 12}, {}, kPath);
  });
  EXPECT_NE(m.find("hold label 12 at index 6, which leaves classes 1, 3, 5, 7 and 2 more ranges "
                   "without a training image"),
            std::string::npos)
      << m;
}

TEST(ClassCount, AGivenCountAllowsUnusedClasses) {
  EXPECT_EQ(training_class_count({0, 1, 2}, {5, "--classes 5"}, kPath), 5);
  EXPECT_EQ(training_class_count({0, 2, 4}, {5, "--classes 5"}, kPath), 5);
  Bytes labels = cycle(40, 10);
  labels[13] = 200;
  EXPECT_EQ(training_class_count(labels, {201, "--classes 201"}, kPath), 201);
}

TEST(ClassCount, AGivenCountRefusesALabelAtOrAboveIt) {
  EXPECT_EQ(message_of([] {
              training_class_count({0, 1, 7, 9}, {5, "--classes 5"}, kPath);
            }),
            "Training labels '/data/train-labels-idx1-ubyte' hold label 7 at index 2, outside the "
            "5 classes (0-4) of --classes 5.");
  EXPECT_EQ(message_of([] {
              training_class_count({0, 5}, {5, "--classes 5"}, kPath);
            }),
            "Training labels '/data/train-labels-idx1-ubyte' hold label 5 at index 1, outside the "
            "5 classes (0-4) of --classes 5.");
}

TEST(ClassCount, LabelsBelowACountNameFileIndexValueAndOrigin) {
  EXPECT_NO_THROW(check_labels_below({0, 9, 3}, 10, "the training labels", "t", "Test labels"));
  EXPECT_EQ(message_of([] {
              check_labels_below({0, 9, 3, 12, 15}, 10, "the training labels",
                                 "/data/t10k-labels-idx1-ubyte", "Test labels");
            }),
            "Test labels '/data/t10k-labels-idx1-ubyte' hold label 12 at index 3, outside the 10 "
            "classes (0-9) of the training labels.");
  EXPECT_EQ(message_of([] {
              check_labels_below({0, 1}, 1, "checkpoint 'm'", "t", "Test labels");
            }),
            "Test labels 't' hold label 1 at index 1, outside the 1 class (0) of checkpoint 'm'.");
}

// A 2x3-pixel directory: training labels `train`, test labels `test`.
void write_dir(const TempDir& dir, const Bytes& train, const Bytes& test) {
  const auto n = static_cast<std::uint32_t>(train.size()),
             m = static_cast<std::uint32_t>(test.size());
  write_raw(dir.file(kTrainImagesFile), idx_bytes({n, 2, 3}, ramp(6 * n)));
  write_raw(dir.file(kTrainLabelsFile), idx_bytes({n}, train));
  write_raw(dir.file(kTestImagesFile), idx_bytes({m, 2, 3}, ramp(6 * m)));
  write_raw(dir.file(kTestLabelsFile), idx_bytes({m}, test));
}

TEST(ClassCount, LoadingRefusesADamagedTrainingLabel) {
  TempDir dir;
  Bytes train = cycle(20, 10);
  train[13] = 200;
  write_dir(dir, train, {0, 1});
  expect_one_sentence_input_error(
      [&] { load_mnist_format(dir.str()); }, "'" + dir.file(kTrainLabelsFile) + "'",
      {"hold label 200 at index 13, which leaves classes 10-199 without a training image",
       "pass --classes 201"});
}

TEST(ClassCount, LoadingRefusesATestLabelOutsideTheTrainingClasses) {
  TempDir dir;
  write_dir(dir, cycle(20, 10), {0, 1, 9, 10, 3});
  EXPECT_EQ(message_of([&] { load_mnist_format(dir.str()); }),
            "Test labels '" + dir.file(kTestLabelsFile) +
                "' hold label 10 at index 3, outside the 10 classes (0-9) of the training "
                "labels.");
}

TEST(ClassCount, LoadingWithAGivenCountAllowsUnusedClassesAndNamesItsOrigin) {
  TempDir dir;
  write_dir(dir, {0, 1, 2, 4}, {3, 4});
  const MnistFormatData d = load_mnist_format(dir.str(), 0, {6, "--classes 6"});
  EXPECT_EQ(d.train.num_classes, 6);
  EXPECT_EQ(d.test.num_classes, 6);
  EXPECT_EQ(message_of([&] {
              load_mnist_format(dir.str(), 0, {4, "checkpoint 'c'"});
            }),
            "Training labels '" + dir.file(kTrainLabelsFile) +
                "' hold label 4 at index 3, outside the 4 classes (0-3) of checkpoint 'c'.");
  write_dir(dir, {0, 1, 2, 3}, {3, 4});
  EXPECT_EQ(message_of([&] {
              load_mnist_format(dir.str(), 0, {4, "checkpoint 'c'"});
            }),
            "Test labels '" + dir.file(kTestLabelsFile) +
                "' hold label 4 at index 1, outside the 4 classes (0-3) of checkpoint 'c'.");
}

TEST(ClassCount, TheWholeTrainingFileDecidesUnderALimit) {
  // The first two labels use only 0 and 1; the file has 3 classes, so the model has 3 outputs.
  TempDir dir;
  write_dir(dir, {0, 1, 2, 1}, {2});
  const MnistFormatData d = load_mnist_format(dir.str(), 2);
  EXPECT_EQ(d.train.size(), 2);
  EXPECT_EQ(d.train.num_classes, 3);
}

TEST(UniformPixels, AreFoundOnlyWhenEveryPixelIsTheSame) {
  TempDir dir;
  write_dir(dir, {0, 1}, {1});
  EXPECT_FALSE(uniform_pixel_value(load_mnist_format(dir.str()).train));
  write_raw(dir.file(kTrainImagesFile), idx_bytes({2, 2, 3}, Bytes(12, 0)));
  EXPECT_EQ(uniform_pixel_value(load_mnist_format(dir.str()).train), 0.0f);
  write_raw(dir.file(kTrainImagesFile), idx_bytes({2, 2, 3}, Bytes(12, 255)));
  EXPECT_EQ(uniform_pixel_value(load_mnist_format(dir.str()).train), 1.0f);
  Bytes almost(12, 7);
  almost[11] = 8;  // the last pixel of the last image differs
  write_raw(dir.file(kTrainImagesFile), idx_bytes({2, 2, 3}, almost));
  EXPECT_FALSE(uniform_pixel_value(load_mnist_format(dir.str()).train));
  EXPECT_FALSE(uniform_pixel_value(Dataset{}));
}

TEST(PathErrors, AreNamedForWhatTheyAre) {
  EXPECT_EQ(path_error_phrase(std::make_error_code(std::errc::too_many_symbolic_link_levels)),
            "is a symbolic link loop");
  EXPECT_EQ(path_error_phrase(std::make_error_code(std::errc::permission_denied)),
            "cannot be reached: permission denied");
  EXPECT_EQ(path_error_phrase(std::make_error_code(std::errc::io_error)),
            "cannot be checked: input/output error");
  EXPECT_TRUE(path_is_absent(std::make_error_code(std::errc::no_such_file_or_directory)));
  EXPECT_TRUE(path_is_absent(std::make_error_code(std::errc::not_a_directory)));
  EXPECT_FALSE(path_is_absent(std::make_error_code(std::errc::too_many_symbolic_link_levels)));
}

TEST(PathErrors, ASymbolicLinkLoopAsTheDirectory) {
  TempDir dir;
  const std::string loop = dir.file("loop");
  fs::create_directory_symlink(loop, loop);
  EXPECT_EQ(message_of([&] { load_mnist_format(loop); }),
            "Dataset directory '" + loop + "' is a symbolic link loop.");
  EXPECT_EQ(message_of([&] { find_mnist_file(loop, kTrainLabelsFile); }),
            "Dataset directory '" + loop + "' is a symbolic link loop.");
}

TEST(PathErrors, ASymbolicLinkLoopAsAFile) {
  TempDir dir;
  write_dir(dir, {0, 1}, {1});
  const std::string labels = dir.file(kTrainLabelsFile);
  fs::remove(labels);
  fs::create_symlink(labels, labels);
  EXPECT_EQ(message_of([&] { load_mnist_format(dir.str()); }),
            "File '" + labels + "' is a symbolic link loop.");
  EXPECT_EQ(message_of([&] { ByteSource source(labels); }),
            "File '" + labels + "' is a symbolic link loop.");
  // Two loops are two unreadable files, not "2 of the 4 files missing".
  const std::string images = dir.file(kTrainImagesFile);
  fs::remove(images);
  fs::create_symlink(images, images);
  EXPECT_EQ(message_of([&] { load_mnist_format(dir.str()); }),
            "File '" + images + "' is a symbolic link loop.");
}

TEST(PathErrors, ALinkToNothingIsNotAMissingFile) {
  TempDir dir;
  write_dir(dir, {0, 1}, {1});
  const std::string labels = dir.file(kTrainLabelsFile);
  fs::remove(labels);
  fs::create_symlink(dir.file("moved-away"), labels);
  EXPECT_EQ(message_of([&] { load_mnist_format(dir.str()); }),
            "File '" + labels + "' is a symbolic link to '" + dir.file("moved-away") +
                "', which does not exist.");
}

TEST(PathErrors, ADirectoryThatMayNotBeSearched) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may search any directory";
  TempDir dir;
  const std::string locked = dir.file("locked"), data = locked + "/data";
  fs::create_directories(data);
  fs::permissions(locked, fs::perms::none);
  const std::string m = message_of([&] { load_mnist_format(data); });
  fs::permissions(locked, fs::perms::owner_all);
  EXPECT_EQ(m, "Dataset directory '" + data + "' cannot be reached: permission denied.");
}

}  // namespace
}  // namespace dlfs::data
