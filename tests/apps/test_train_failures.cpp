// How `dlfs train` fails: options it refuses, a loss that diverges, and the exit status and
// single line of the binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dlfs/apps/commands.hpp"
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/train/trainer.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

using testing::read_text_file;

std::string temp_dir(const std::string& name) {
  return testing::temp_path("failures", name);
}

int train(std::vector<std::string> args) {
  // The CPU unless the test names a device itself: an option given twice is refused.
  if (std::find(args.begin(), args.end(), "--device") == args.end())
    args.insert(args.begin(), {"--device", "cpu"});
  args.insert(args.begin(), {"dlfs", "train", "--quiet"});
  return testing::call_command(train_command, std::move(args));
}

template <typename E>
std::string error_of(std::vector<std::string> args) {
  try {
    train(std::move(args));
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TrainFailures, NegativeOrNonFiniteLearningRatesAreRefused) {
  for (const char* lr : {"-0.1", "inf", "-inf", "nan", "1e400"}) {
    const std::string message = error_of<InputError>({"--data", "synthetic", "--lr", lr});
    EXPECT_NE(message.find(std::string("option --lr: ") + lr), std::string::npos) << message;
  }
}

TEST(TrainFailures, NonPositiveBatchSizeOrEpochsAreRefused) {
  EXPECT_NE(error_of<InputError>({"--data", "synthetic", "--batch-size", "-4"})
                .find("option --batch-size: -4 is out of range [1,"),
            std::string::npos);
  EXPECT_NE(error_of<InputError>({"--data", "synthetic", "--epochs", "0"})
                .find("option --epochs: 0 is out of range [1,"),
            std::string::npos);
}

TEST(TrainFailures, CudaWithoutAGpuSaysSoAndSuggestsTheCpu) {
  if (cuda_available())
    GTEST_SKIP() << "tests the no-GPU case, and a CUDA device is present: " << cuda_status();
  const std::string message = error_of<InputError>({"--data", "synthetic", "--device", "cuda"});
  EXPECT_NE(message.find("device 'cuda' is not available"), std::string::npos) << message;
  EXPECT_NE(message.find("use --device cpu or --device auto"), std::string::npos) << message;
}

TEST(TrainFailures, ADivergingLossNamesEpochAndBatchAndWritesNoCheckpoint) {
  const std::string out = temp_dir("diverge");
  const std::string message = error_of<train::DivergenceError>(
      {"--data", "synthetic", "--limit-train", "300", "--model", "two-layer-net", "--optimizer",
       "sgd", "--lr", "1000000", "--epochs", "1", "--out", out});
  EXPECT_NE(message.find("the loss became NaN at epoch 1, batch "), std::string::npos) << message;
  EXPECT_NE(message.find("no checkpoint was written"), std::string::npos) << message;
  EXPECT_NE(::access((out + "/model.safetensors").c_str(), F_OK), 0);
}

TEST(TrainFailures, ADivergingLossKeepsTheLastGoodCheckpoint) {
  const std::string out = temp_dir("keep");
  ASSERT_EQ(train({"--data", "synthetic", "--limit-train", "300", "--model", "two-layer-net",
                   "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1", "--out", out}),
            0);
  const std::string weights = read_text_file(out + "/model.safetensors");
  const std::string state = read_text_file(out + "/train_state.safetensors");
  ASSERT_FALSE(weights.empty());
  // Resumed for a second epoch at a learning rate that blows up.
  const std::string message = error_of<train::DivergenceError>(
      {"--resume", out + "/train_state.safetensors", "--epochs", "2", "--lr", "1000000"});
  EXPECT_NE(message.find("at epoch 2, batch "), std::string::npos) << message;
  EXPECT_NE(message.find("the last good weights are in " + out + "/model.safetensors"),
            std::string::npos)
      << message;
  EXPECT_EQ(read_text_file(out + "/model.safetensors"), weights);
  EXPECT_EQ(read_text_file(out + "/train_state.safetensors"), state);
}

// The binary turns a bad option into exit status 2 and one line on stderr, nothing on stdout.
TEST(TrainFailures, TheBinaryPrintsOneLineAndExitsWithTwo) {
  const std::string out = temp_dir("binary");
  const std::string command = dlfs::testing::dlfs_binary() +
                              " train --data synthetic --epochs 0 >" + out + ".stdout 2>" + out +
                              ".stderr";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_EQ(read_text_file(out + ".stdout"), "");
  EXPECT_EQ(read_text_file(out + ".stderr"),
            "dlfs train: option --epochs: 0 is out of range [1, 1000000]\n");
}

}  // namespace
}  // namespace dlfs::app
