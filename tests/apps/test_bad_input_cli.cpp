// The real `dlfs` binary on bad input: a non-zero exit, one line on stderr naming the file,
// no signal, no hang, and no output file left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dlfs/models/safetensors.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using dlfs::testing::dlfs_binary;
using dlfs::testing::ProcessResult;

class BadInputCli : public ::testing::Test {
 protected:
  std::string dir = ::testing::TempDir() + "dlfs_badcli_" + std::to_string(::getpid());
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), dlfs_binary());
    return testing::run_process(args, dir + "/run", std::chrono::seconds(60));
  }
  // Exit 2 (bad input), nothing on stdout, exactly one line on stderr containing `phrases`.
  static void expect_one_line_error(const ProcessResult& r,
                                    std::initializer_list<std::string> phrases) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, 0);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    for (const auto& p : phrases) EXPECT_NE(r.err.find(p), std::string::npos) << r.err;
  }
};

TEST_F(BadInputCli, EvalOfAMissingCheckpoint) {
  const std::string ckpt = dir + "/none.safetensors";
  expect_one_line_error(run({"eval", "--checkpoint", ckpt, "--data", "synthetic"}),
                        {"dlfs eval: ", "'" + ckpt + "' does not exist."});
}

TEST_F(BadInputCli, EvalOfATextFile) {
  const std::string ckpt = dir + "/notes.txt";
  std::ofstream(ckpt) << "These are my notes, not a checkpoint.\n";
  expect_one_line_error(run({"eval", "--checkpoint", ckpt, "--data", "synthetic"}),
                        {"'" + ckpt + "' is not a safetensors file"});
}

TEST_F(BadInputCli, EvalOfATruncatedCheckpoint) {
  const std::string ckpt = dir + "/cut.safetensors";
  save_safetensors(ckpt, {{"w", Tensor::zeros({64, 64})}});
  fs::resize_file(ckpt, fs::file_size(ckpt) - 100);
  expect_one_line_error(run({"eval", "--checkpoint", ckpt, "--data", "synthetic"}),
                        {"'" + ckpt + "'", "run past the end of the data"});
}

TEST_F(BadInputCli, EvalOfACheckpointWithoutDlfsMetadata) {
  const std::string ckpt = dir + "/foreign.safetensors";
  save_safetensors(ckpt, {{"w", Tensor::zeros({2})}});
  expect_one_line_error(run({"eval", "--checkpoint", ckpt, "--data", "synthetic"}),
                        {"'" + ckpt + "' has no 'dlfs_model' metadata"});
}

TEST_F(BadInputCli, TrainOnAMissingDirectoryLeavesNoOutput) {
  const std::string data = dir + "/no-data", out = dir + "/out";
  expect_one_line_error(run({"train", "--data", data, "--epochs", "1", "--out", out, "--quiet"}),
                        {"dlfs train: ", "'" + data + "' does not exist"});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BadInputCli, TrainOnADirectoryWithoutTheFourFilesLeavesNoOutput) {
  const std::string data = dir + "/empty-data", out = dir + "/out";
  fs::create_directories(data);
  expect_one_line_error(run({"train", "--data", data, "--epochs", "1", "--out", out, "--quiet"}),
                        {"'" + data + "' lacks 4 of the 4 MNIST-format files"});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(BadInputCli, TrainOnABadIdxFileNamesIt) {
  const std::string data = dir + "/bad-data", out = dir + "/out";
  fs::create_directories(data);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    std::ofstream(data + "/" + name) << "<html>404 Not Found</html>";
  expect_one_line_error(run({"train", "--data", data, "--epochs", "1", "--out", out, "--quiet"}),
                        {"'" + data + "/train-images-idx3-ubyte' has the wrong magic number"});
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace dlfs
