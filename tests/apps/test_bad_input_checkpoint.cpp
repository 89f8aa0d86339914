// The real `dlfs` binary on checkpoints that are well-formed files but must not be used: NaN or
// infinite weights, optimizer state or buffers (eval, --init-from, --resume), metadata values
// dlfs never writes, and PyTorch pickles. Each is exit status 2 with one line on stderr naming
// the file and the tensor or key, and nothing is evaluated, trained or written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/safetensors.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using dlfs::testing::dlfs_binary;
using dlfs::testing::ProcessResult;
using dlfs::testing::read_text_file;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The options of a short training run on generated data (about a second on one core).
const std::vector<std::string> kQuickTrain = {
    "--model", "lenet5", "--data", "synthetic",     "--epochs", "1",
    "--quiet", "--plot", "off",    "--limit-train", "200"};

class BadInputCheckpoint : public ::testing::Test {
 protected:
  std::string dir = testing::fresh_temp_path("badckpt", "cli");
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), dlfs_binary());
    return testing::run_process(args, dir + "/run", std::chrono::seconds(120));
  }
  ProcessResult eval(const std::string& checkpoint) {
    return run({"eval", "--checkpoint", checkpoint, "--data", "synthetic", "--device", "cpu"});
  }
  // Exit 2 (bad input), nothing on stdout (no figure from an unusable model), one line on
  // stderr that is exactly `message` after the command's prefix.
  static void expect_refusal(const ProcessResult& r, const std::string& command,
                             const std::string& message) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, 0);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "dlfs " + command + ": " + message + "\n");
    if (command == "eval") {
      EXPECT_EQ(r.out, "") << "a figure from a refused checkpoint";
    }
  }

  // A LeNet-5 checkpoint as `dlfs train` writes it, with the given extra metadata.
  std::string lenet5_checkpoint(const std::string& name,
                                const std::map<std::string, std::string>& metadata = {
                                    {"dlfs_normalize_mean", "0.1"},
                                    {"dlfs_normalize_std", "0.3"}}) {
    Model model = build_model("lenet5");
    const std::string path = dir + "/" + name;
    save_model(path, model, metadata);
    return path;
  }
  // Rewrites `path` with `values` written over the first elements of float32 tensor `tensor`.
  static void poison(const std::string& path, const std::string& tensor,
                     const std::vector<std::pair<std::int64_t, float>>& values) {
    SafetensorsContents c = load_safetensors(path);
    bool found = false;
    for (auto& [name, t] : c.tensors) {
      if (name != tensor) continue;
      std::vector<float> v = t.to_vector<float>();
      for (const auto& [index, x] : values) v.at(static_cast<std::size_t>(index)) = x;
      t = Tensor::from_vector<float>(v, t.shape());
      found = true;
    }
    ASSERT_TRUE(found) << path << " has no tensor " << tensor;
    save_safetensors(path, c.tensors, c.metadata);
  }
};

// --- NaN and infinite values ------------------------------------------------------------------

TEST_F(BadInputCheckpoint, EvalRefusesNaNWeightsInsteadOfReportingAnAccuracy) {
  const std::string ckpt = lenet5_checkpoint("model.safetensors");
  const ProcessResult clean = eval(ckpt);  // the same file, before the damage, evaluates
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  ASSERT_NE(clean.out.find("test accuracy"), std::string::npos) << clean.out;
  poison(ckpt, "conv1.weight", {{0, kNaN}, {70, kNaN}, {149, kNaN}});
  expect_refusal(eval(ckpt), "eval",
                 "Checkpoint '" + ckpt +
                     "' has tensor 'conv1.weight' with 3 NaN and 0 infinite values of 150; the "
                     "checkpoint is damaged.");
}

TEST_F(BadInputCheckpoint, EvalRefusesInfiniteWeights) {
  const std::string ckpt = lenet5_checkpoint("model.safetensors");
  poison(ckpt, "fc3.bias", {{0, kInf}, {9, -kInf}});
  expect_refusal(eval(ckpt), "eval",
                 "Checkpoint '" + ckpt +
                     "' has tensor 'fc3.bias' with 0 NaN and 2 infinite values of 10; the "
                     "checkpoint is damaged.");
}

TEST_F(BadInputCheckpoint, InitFromNaNWeightsTrainsNothingAndWritesNothing) {
  const std::string ckpt = lenet5_checkpoint("start.safetensors");
  poison(ckpt, "conv2.weight", {{5, kNaN}});
  const std::string out = dir + "/out";
  std::vector<std::string> args = {"train", "--init-from", ckpt, "--out", out};
  args.insert(args.end(), kQuickTrain.begin(), kQuickTrain.end());
  expect_refusal(run(args), "train",
                 "Checkpoint '" + ckpt +
                     "' has tensor 'conv2.weight' with 1 NaN and 0 infinite values of 2400; the "
                     "checkpoint is damaged.");
  EXPECT_FALSE(fs::exists(out)) << "a run folder for a refused start";
}

class BadInputResume : public BadInputCheckpoint {
 protected:
  std::string out = dir + "/run1";
  std::string state = out + "/train_state.safetensors";
  void SetUp() override {
    BadInputCheckpoint::SetUp();
    std::vector<std::string> args = {"train", "--out", out};
    args.insert(args.end(), kQuickTrain.begin(), kQuickTrain.end());
    const ProcessResult r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(fs::exists(state));
  }
  // Every file of the run folder and its bytes.
  std::map<std::string, std::string> folder() const {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(out))
      files[e.path().filename().string()] = read_text_file(e.path().string());
    return files;
  }
};

TEST_F(BadInputResume, NaNInTheOptimizerStateIsRefusedAndTheRunIsUntouched) {
  poison(state, "optimizer.conv1.weight.exp_avg_sq", {{3, kNaN}, {4, kInf}});
  const auto before = folder();
  expect_refusal(run({"train", "--resume", state, "--epochs", "2"}), "train",
                 "Checkpoint '" + state +
                     "' has tensor 'optimizer.conv1.weight.exp_avg_sq' with 1 NaN and 1 "
                     "infinite values of 150; the checkpoint is damaged.");
  EXPECT_EQ(folder(), before);
}

TEST_F(BadInputResume, NaNInTheWeightsOfATrainingStateIsRefused) {
  poison(state, "fc1.weight", {{0, kNaN}});
  const auto before = folder();
  expect_refusal(run({"train", "--resume", state, "--epochs", "2"}), "train",
                 "Checkpoint '" + state +
                     "' has tensor 'fc1.weight' with 1 NaN and 0 infinite values of 48000; the "
                     "checkpoint is damaged.");
  EXPECT_EQ(folder(), before);
}

// --- Metadata values ----------------------------------------------------------------------------

TEST_F(BadInputCheckpoint, EvalRefusesAStddevThatIsNotPositiveAndFinite) {
  for (const std::string bad : {"0", "nan", "-1", "inf", "", "0.3 "}) {
    SCOPED_TRACE("dlfs_normalize_std '" + bad + "'");
    const std::string ckpt = lenet5_checkpoint(
        "model.safetensors", {{"dlfs_normalize_mean", "0.1"}, {"dlfs_normalize_std", bad}});
    expect_refusal(eval(ckpt), "eval",
                   "Checkpoint '" + ckpt + "' has metadata dlfs_normalize_std '" + bad +
                       "'; it must be a positive finite number.");
  }
}

TEST_F(BadInputCheckpoint, EvalRefusesAMeanThatIsNotAFiniteNumber) {
  for (const std::string bad : {"nan", "-inf", "zero", "1e999"}) {
    SCOPED_TRACE("dlfs_normalize_mean '" + bad + "'");
    const std::string ckpt = lenet5_checkpoint(
        "model.safetensors", {{"dlfs_normalize_mean", bad}, {"dlfs_normalize_std", "0.3"}});
    expect_refusal(eval(ckpt), "eval",
                   "Checkpoint '" + ckpt + "' has metadata dlfs_normalize_mean '" + bad +
                       "'; it must be a finite number.");
  }
}

TEST_F(BadInputCheckpoint, EvalRefusesBadModelMetadata) {
  Model model = build_model("lenet5");
  const std::string ckpt = dir + "/model.safetensors";
  const std::map<std::string, std::string> good = {
      {kMetaModel, "lenet5"}, {kMetaVariant, "28"}, {kMetaClasses, "10"}};
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {kMetaClasses, "ten", "a class count from 1 to 100000"},
      {kMetaClasses, "10 ", "a class count from 1 to 100000"},
      {kMetaVariant, "29", "an input size of lenet5 (28, 32)"},
  };
  for (const auto& [key, value, requirement] : cases) {
    SCOPED_TRACE(key + " '" + value + "'");
    std::map<std::string, std::string> metadata = good;
    metadata[key] = value;
    save_safetensors(ckpt, model_state(model), metadata);
    expect_refusal(eval(ckpt), "eval",
                   "Checkpoint '" + ckpt + "' has metadata " + key + " '" + value +
                       "'; it must be " + requirement + ".");
  }
}

// --- PyTorch pickles ----------------------------------------------------------------------------

TEST_F(BadInputCheckpoint, EvalOfATorchSaveFileSaysHowToConvertIt) {
  const std::string pt = dir + "/model.pt";
  // The first bytes of torch.save's zip format (PyTorch 1.6 and later).
  std::ofstream(pt, std::ios::binary) << std::string("PK\x03\x04\x00\x00\x08\x08\x00\x00", 10)
                                      << "archive/data.pkl" << std::string(2000, '\0');
  expect_refusal(eval(pt), "eval",
                 "Checkpoint '" + pt +
                     "' is a PyTorch pickle (torch.save), not a safetensors file; convert its "
                     "state_dict with: python3 -c \"import torch; from safetensors.torch import "
                     "save_file; save_file(torch.load('" +
                     pt + "', map_location='cpu'), '" + dir +
                     "/model.safetensors')\" (the safetensors module comes from pip install "
                     "safetensors).");
}

TEST_F(BadInputCheckpoint, InitFromALegacyTorchPickleIsRecognised) {
  const std::string pt = dir + "/weights.pth";
  // torch.save(..., _use_new_zipfile_serialization=False): pickle protocol 2.
  std::ofstream(pt, std::ios::binary)
      << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20", 10) << std::string(500, 'q');
  const std::string out = dir + "/out";
  std::vector<std::string> args = {"train", "--init-from", pt, "--out", out};
  args.insert(args.end(), kQuickTrain.begin(), kQuickTrain.end());
  const ProcessResult r = run(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find("dlfs train: Checkpoint '" + pt + "' is a PyTorch pickle (torch.save)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("'" + dir + "/weights.safetensors')"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace dlfs
