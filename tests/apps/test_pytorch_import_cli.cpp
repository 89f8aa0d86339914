// The real `dlfs` binary on safetensors files without dlfs metadata, as PyTorch's
// safetensors.torch.save_file(model.state_dict(), F) writes them: `dlfs eval --checkpoint F
// --model NAME` and `dlfs train --init-from F --model NAME` load them by tensor name and shape;
// without --model, eval says what to pass; a wrong shape or a dlfs checkpoint of another model is
// refused in one sentence naming the tensor (both shapes) or both models. The files are written
// here from dlfs's own model state, which has the PyTorch twins' names (whether PyTorch's files
// give PyTorch's logits is tests/models/test_pytorch_import.cpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using dlfs::testing::dlfs_binary;
using dlfs::testing::ProcessResult;

class PyTorchImportCli : public ::testing::Test {
 protected:
  std::string dir = testing::fresh_temp_path("ptimport", "cli");
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), dlfs_binary());
    return testing::run_process(args, dir + "/run", std::chrono::seconds(120));
  }
  ProcessResult eval(const std::string& checkpoint, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"eval",      "--checkpoint", checkpoint, "--data",
                                     "synthetic", "--device",     "cpu"};
    args.insert(args.end(), more.begin(), more.end());
    return run(args);
  }
  // A randomly initialised model's state_dict with no metadata at all, as PyTorch saves it.
  std::string state_dict_file(const std::string& file, const std::string& model_name,
                              int classes = 10) {
    Model model = build_model(model_name, "", classes);
    Generator gen(5);
    initialize(model, InitScheme::He, gen);
    const std::string path = dir + "/" + file;
    save_safetensors(path, model_state(model));
    return path;
  }
  // Exit 2, nothing on stdout, exactly one line on stderr: "dlfs COMMAND: MESSAGE".
  static void expect_refusal(const ProcessResult& r, const std::string& command,
                             const std::string& message) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "dlfs " + command + ": " + message + "\n");
    if (command == "eval") {
      EXPECT_EQ(r.out, "") << "a figure from a refused checkpoint";
    }
  }
};

TEST_F(PyTorchImportCli, EvalWithModelLoadsAFileWithoutDlfsMetadata) {
  const std::string pt = state_dict_file("lenet5.safetensors", "lenet5");
  ASSERT_TRUE(load_safetensors(pt).metadata.empty());
  const ProcessResult r = eval(pt, {"--model", "lenet5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find(pt + " (lenet5) on cpu: test accuracy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(500 images)"), std::string::npos) << r.out;

  // The same tensors as a dlfs checkpoint without normalization give the same figures: the
  // metadata-less file is read as pixels in [0, 1], with the input size and classes of the data.
  SafetensorsContents c = load_safetensors(pt);
  const std::string dlfs_file = dir + "/dlfs.safetensors";
  save_safetensors(dlfs_file, c.tensors,
                   {{kMetaModel, "lenet5"}, {kMetaVariant, "28"}, {kMetaClasses, "10"}});
  const ProcessResult same = eval(dlfs_file);
  ASSERT_EQ(same.exit_code, 0) << same.err;
  const auto figures = [](const std::string& out) { return out.substr(out.find(": test ")); };
  EXPECT_EQ(figures(r.out), figures(same.out));
  // --model naming the model a dlfs checkpoint holds is allowed, and changes nothing.
  const ProcessResult named = eval(dlfs_file, {"--model", "lenet5"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(figures(named.out), figures(same.out));
}

TEST_F(PyTorchImportCli, EvalTakesTheClassCountFromTheWeights) {
  const std::string pt = state_dict_file("five.safetensors", "lenet5", 5);
  const ProcessResult r = eval(pt, {"--model", "lenet5", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"model\": \"lenet5\""), std::string::npos) << r.out;
}

TEST_F(PyTorchImportCli, EvalWithoutModelSaysToPassIt) {
  const std::string pt = state_dict_file("lenet5.safetensors", "lenet5");
  expect_refusal(eval(pt), "eval",
                 "Checkpoint '" + pt +
                     "' has no 'dlfs_model' metadata, so it does not say which model it holds; "
                     "pass --model NAME to load it as that model's PyTorch state_dict (dlfs "
                     "models lists them).");
}

TEST_F(PyTorchImportCli, AWrongShapeNamesTheTensorAndBothShapes) {
  const std::string pt = state_dict_file("lenet5.safetensors", "lenet5");
  SafetensorsContents c = load_safetensors(pt);
  for (auto& [name, t] : c.tensors)
    if (name == "fc1.weight") t = Tensor::zeros({120, 256});  // LeNet-5 at 32x32 without padding
  save_safetensors(pt, c.tensors);
  const std::string message = "Checkpoint '" + pt +
                              "' holds tensor 'fc1.weight' as float32 [120, 256] but model "
                              "lenet5 needs float32 [120, 400].";
  expect_refusal(eval(pt, {"--model", "lenet5"}), "eval", message);
  const std::string out = dir + "/out";
  expect_refusal(run({"train", "--init-from", pt, "--model", "lenet5", "--data", "synthetic",
                      "--epochs", "1", "--quiet", "--plot", "off", "--out", out}),
                 "train", message);
  EXPECT_FALSE(fs::exists(out)) << "a run folder for a refused start";
}

TEST_F(PyTorchImportCli, ADlfsCheckpointOfAnotherModelIsRefusedNamingBoth) {
  Model other = build_model("two-layer-net");
  const std::string ckpt = dir + "/two.safetensors";
  save_model(ckpt, other);
  const std::string message = "Checkpoint '" + ckpt +
                              "' holds model 'two-layer-net' (its dlfs_model metadata) but "
                              "--model is 'lenet5'.";
  expect_refusal(eval(ckpt, {"--model", "lenet5"}), "eval", message);
  const std::string out = dir + "/out";
  expect_refusal(run({"train", "--init-from", ckpt, "--model", "lenet5", "--data", "synthetic",
                      "--epochs", "1", "--quiet", "--plot", "off", "--out", out}),
                 "train", message);
}

TEST_F(PyTorchImportCli, InitFromAFileWithoutDlfsMetadataTrainsFromItsWeights) {
  const std::string pt = state_dict_file("lenet5.safetensors", "lenet5");
  const std::string out = dir + "/out";
  // A learning rate of 0: the run's weights must be the imported ones, unchanged.
  const ProcessResult r = run({"train",   "--init-from", pt,         "--model", "lenet5",
                               "--data",  "synthetic",   "--epochs", "1",       "--limit-train",
                               "200",     "--optimizer", "sgd",      "--lr",    "0",
                               "--quiet", "--plot",      "off",      "--out",   out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;
  const SafetensorsContents imported = load_safetensors(pt);
  const SafetensorsContents trained = load_safetensors(out + "/model.safetensors");
  ASSERT_EQ(trained.tensors.size(), imported.tensors.size());
  for (const auto& [name, t] : imported.tensors) {
    const Tensor* after = trained.find(name);
    ASSERT_NE(after, nullptr) << name;
    EXPECT_EQ(after->to_vector<float>(), t.to_vector<float>()) << name;
  }
}

}  // namespace
}  // namespace dlfs
