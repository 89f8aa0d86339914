// The real `dlfs` binary on MNIST-format data that is well-formed but wrong: a damaged label byte
// that would widen the class count, test labels outside the training classes, labels outside
// --classes or a checkpoint's classes, a data path that is a symbolic link loop. Each is refused
// with exit status 2, one line on stderr naming the file, the index and the value, and no run
// folder. --classes N accepts a dataset with an unused class, and blank images train with a
// warning.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dlfs/runtime/json.hpp"
#include "support/idx_test_files.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using dlfs::testing::dlfs_binary;
using dlfs::testing::ProcessResult;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kTrain = 60, kTest = 20, kSide = 28;
// two-layer-net (784-100-C): 78,500 parameters before the output layer, 101 per class after it.
constexpr std::int64_t two_layer_net_parameters(std::int64_t classes) {
  return 784 * 100 + 100 + 101 * classes;
}

// An IDX file of unsigned bytes.
void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const Bytes& values) {
  data::testing::write_raw(path, data::testing::idx_bytes(dims, values));
}

// Labels 0, 1, ..., 9, 0, 1, ...: all ten classes used.
Bytes ten_classes(std::uint32_t n) {
  Bytes b(n);
  for (std::uint32_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i % 10);
  return b;
}

// Pixels that differ from image to image and within each.
Bytes varied_pixels(std::uint32_t n) {
  Bytes b(static_cast<std::size_t>(n) * kSide * kSide);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>((i * 37) % 251);
  return b;
}

class BadInputData : public ::testing::Test {
 protected:
  const std::string dir = ::testing::TempDir() + "dlfs_baddata_" + std::to_string(::getpid());
  const std::string data = dir + "/data", out = dir + "/out";
  const std::string train_labels = data + "/train-labels-idx1-ubyte";
  const std::string test_labels = data + "/t10k-labels-idx1-ubyte";

  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(data);
    write_idx(data + "/train-images-idx3-ubyte", {kTrain, kSide, kSide}, varied_pixels(kTrain));
    write_idx(train_labels, {kTrain}, ten_classes(kTrain));
    write_idx(data + "/t10k-images-idx3-ubyte", {kTest, kSide, kSide}, varied_pixels(kTest));
    write_idx(test_labels, {kTest}, ten_classes(kTest));
  }
  void TearDown() override { fs::remove_all(dir); }

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), dlfs_binary());
    return testing::run_process(args, dir + "/run", std::chrono::seconds(120));
  }
  // One small, quick training run on `data_dir`, writing to `out`.
  ProcessResult train(std::vector<std::string> extra = {}, const std::string& data_dir = "") {
    std::vector<std::string> args = {
        "train",    "--data",        data_dir.empty() ? data : data_dir,
        "--model",  "two-layer-net", "--epochs",
        "1",        "--batch-size",  "20",
        "--device", "cpu",           "--plot",
        "off",      "--quiet",       "--out",
        out};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  }
  // Exit status 2, nothing on stdout, exactly "dlfs COMMAND: MESSAGE" on stderr, no run folder.
  void expect_refused(const ProcessResult& r, const std::string& command,
                      const std::string& message) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "dlfs " + command + ": " + message + "\n");
    EXPECT_FALSE(fs::exists(out)) << "a refused run wrote " << out;
  }
  void expect_trained(const ProcessResult& r) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(out + "/model.safetensors"));
  }
  std::int64_t trained_parameters() {
    const JsonValue summary = parse_json(testing::read_text_file(out + "/summary.json"));
    return summary.find("parameters")->integer;
  }
};

TEST_F(BadInputData, TheValidDataTrainsTenClasses) {
  // Every case below differs from this one in one file or option.
  const ProcessResult r = train();
  expect_trained(r);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_EQ(trained_parameters(), two_layer_net_parameters(10));
}

TEST_F(BadInputData, ADamagedTrainingLabelDoesNotWidenTheClassCount) {
  Bytes labels = ten_classes(kTrain);
  labels[13] = 200;
  write_idx(train_labels, {kTrain}, labels);
  expect_refused(train(), "train",
                 "Training labels '" + train_labels +
                     "' hold label 200 at index 13, which leaves classes 10-199 without a "
                     "training image (a damaged file?); if the data really has 201 classes, pass "
                     "--classes 201.");
}

TEST_F(BadInputData, ATestLabelOutsideTheTrainingClasses) {
  Bytes labels = ten_classes(kTest);
  labels[7] = 10;
  write_idx(test_labels, {kTest}, labels);
  expect_refused(train(), "train",
                 "Test labels '" + test_labels +
                     "' hold label 10 at index 7, outside the 10 classes (0-9) of the training "
                     "labels.");
}

TEST_F(BadInputData, ATrainingLabelOutsideTheGivenClasses) {
  expect_refused(train({"--classes", "5"}), "train",
                 "Training labels '" + train_labels +
                     "' hold label 5 at index 5, outside the 5 classes (0-4) of --classes 5.");
}

TEST_F(BadInputData, ATestLabelOutsideTheGivenClasses) {
  Bytes labels = ten_classes(kTest);
  labels[4] = 11;
  write_idx(test_labels, {kTest}, labels);
  expect_refused(train({"--classes", "11"}), "train",
                 "Test labels '" + test_labels +
                     "' hold label 11 at index 4, outside the 11 classes (0-10) of --classes 11.");
}

TEST_F(BadInputData, AnUnusedClassIsRefusedWithoutClassesAndAcceptedWithIt) {
  // No training image of class 3 (each becomes a 4): the data, not a byte, says 10 classes.
  Bytes labels = ten_classes(kTrain);
  for (auto& l : labels)
    if (l == 3) l = 4;
  write_idx(train_labels, {kTrain}, labels);
  expect_refused(train(), "train",
                 "Training labels '" + train_labels +
                     "' hold label 9 at index 9, which leaves class 3 without a training image (a "
                     "damaged file?); if the data really has 10 classes, pass --classes 10.");
  const ProcessResult r = train({"--classes", "10"});
  expect_trained(r);
  EXPECT_EQ(trained_parameters(), two_layer_net_parameters(10));
}

TEST_F(BadInputData, ClassesWidensTheModelWhenTheUserMeansIt) {
  expect_trained(train({"--classes", "12"}));
  EXPECT_EQ(trained_parameters(), two_layer_net_parameters(12));
}

TEST_F(BadInputData, ClassesOutOfRange) {
  // Labels are bytes: 256 classes at most. The wording is the option parser's.
  for (const std::string n : {"0", "257"}) {
    const ProcessResult r = train({"--classes", n});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--classes: " + n + " is out of range [1, 256]"), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST_F(BadInputData, EvalRefusesATestLabelOutsideTheCheckpointsClasses) {
  expect_trained(train());
  const std::string checkpoint = out + "/model.safetensors";
  const ProcessResult ok =
      run({"eval", "--checkpoint", checkpoint, "--data", data, "--device", "cpu"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  Bytes labels = ten_classes(kTest);
  labels[3] = 12;
  write_idx(test_labels, {kTest}, labels);
  const ProcessResult r =
      run({"eval", "--checkpoint", checkpoint, "--data", data, "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "dlfs eval: Test labels '" + test_labels +
                       "' hold label 12 at index 3, outside the 10 classes (0-9) of checkpoint '" +
                       checkpoint + "'.\n");
}

TEST_F(BadInputData, BlankImagesTrainWithAWarning) {
  write_idx(data + "/train-images-idx3-ubyte", {kTrain, kSide, kSide},
            Bytes(static_cast<std::size_t>(kTrain) * kSide * kSide, 0));
  const ProcessResult r = train();
  expect_trained(r);
  EXPECT_NE(r.err.find("dlfs train: warning: every training image in " + data +
                       " has the same pixel value 0, so the model can learn nothing from the "
                       "images (a damaged or wrongly converted file?); training goes on\n"),
            std::string::npos)
      << r.err;
}

TEST_F(BadInputData, SyntheticDataHasNoWarning) {
  const ProcessResult r = train({"--limit-train", "200"}, "synthetic");
  expect_trained(r);
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST_F(BadInputData, ADataDirectoryThatIsASymbolicLinkLoop) {
  const std::string loop = dir + "/loop";
  fs::create_directory_symlink(loop, loop);
  expect_refused(train({}, loop), "train",
                 "Dataset directory '" + loop + "' is a symbolic link loop.");
}

TEST_F(BadInputData, ADataFileThatIsASymbolicLinkLoop) {
  fs::remove(train_labels);
  fs::create_symlink(train_labels, train_labels);
  expect_refused(train(), "train", "File '" + train_labels + "' is a symbolic link loop.");
}

TEST_F(BadInputData, ADataDirectoryThatMayNotBeSearched) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may search any directory";
  const std::string locked = dir + "/locked", inside = locked + "/data";
  fs::create_directories(inside);
  fs::permissions(locked, fs::perms::none);
  const ProcessResult r = train({}, inside);
  fs::permissions(locked, fs::perms::owner_all);
  expect_refused(r, "train",
                 "Dataset directory '" + inside + "' cannot be reached: permission denied.");
}

}  // namespace
}  // namespace dlfs
