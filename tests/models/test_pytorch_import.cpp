// PyTorch weights into dlfs: state_dicts that PyTorch wrote as safetensors, with no dlfs
// metadata, loaded by name into the catalog model and run on PyTorch's batch.
//
// tests/models/pytorch_export.py builds the twins (bench/pytorch_models.py) of lenet5, resnet18
// and vgg11-bn at 28x28 with PyTorch's random init from a fixed seed and random BatchNorm gamma,
// beta, running mean and variance (so inference depends on every imported statistic), and writes
// each state_dict as safetensors.torch.save_file would (no "__metadata__", num_batches_tracked as
// int64), with a batch of 4 images in [0, 1] and PyTorch's eval-mode logits. Here dlfs builds the
// model (class count from the weights: weights_class_count), loads the file with load_weights
// (names, shapes and dtypes checked) and runs the batch in inference mode: its logits must be
// within 1e-5 of the largest PyTorch logit in magnitude. The distance to the twin run in float64
// is printed beside it. Needs Debian's python3-torch (numpy comes with it), not pip's
// safetensors; where no Python can import torch the test skips and says so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/python_torch.hpp"
#include "support/reliability_expect.hpp"

namespace dlfs {
namespace {

using dlfs::testing::expect_one_sentence_input_error;
using dlfs::testing::run_torch_script;

// max |ours - theirs| / max |theirs|, in double.
double relative_error(const Tensor& ours, const Tensor& theirs) {
  const std::vector<double> a = ours.to(DType::Float64).to_vector<double>();
  const std::vector<double> b = theirs.to(DType::Float64).to_vector<double>();
  EXPECT_EQ(a.size(), b.size());
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return diff / std::max(scale, 1e-30);
}

TEST(PyTorchImport, LeNet5ResNet18Vgg11BnGivePyTorchsLogits) {
  const std::vector<std::string> models = {"lenet5", "resnet18", "vgg11-bn"};
  const std::string root =
      ::testing::TempDir() + "dlfs_pytorch_import_" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  std::string specs;
  for (const std::string& name : models) specs += " " + name + ":28";
  // One run for the three: importing torch takes seconds.
  const auto script = run_torch_script(std::string("'") + DLFS_SOURCE_DIR +
                                       "/tests/models/pytorch_export.py' '" + root + "'" + specs);
  if (!script.has_torch) {
    std::filesystem::remove_all(root);
    GTEST_SKIP() << "PyTorch is not installed (Debian: apt-get install -y python3-torch); the "
                    "import of PyTorch state_dicts was NOT checked against PyTorch:\n"
                 << script.output;
  }
  ASSERT_EQ(script.exit_code, 0) << script.output;

  constexpr double kTolerance = 1e-5;
  for (const std::string& name : models) {
    SCOPED_TRACE(name);
    const std::string dir = root + "/" + name + "-28";
    const std::string path = dir + "/weights.safetensors";
    const SafetensorsContents weights = load_safetensors(path);
    EXPECT_EQ(weights.metadata.count(kMetaModel), 0u) << "the export must carry no dlfs metadata";
    const SafetensorsContents pytorch = load_safetensors(dir + "/pytorch.safetensors");
    const Tensor* input = pytorch.find("input");
    const Tensor* logits = pytorch.find("logits");
    const Tensor* logits64 = pytorch.find("logits64");
    ASSERT_TRUE(input && logits && logits64) << script.output;

    Model model = build_model(name, "28", weights_class_count(name, weights, path));
    // Random init first, so that a tensor load_weights failed to copy would show in the logits.
    Generator gen(7);
    initialize(model, InitScheme::He, gen);
    ASSERT_NO_THROW(load_weights(model, weights, path));
    const Tensor ours =
        model.graph.run({{Model::kInput, *input}}, model.logits_node, Mode::Inference).clone();
    ASSERT_EQ(ours.shape(), logits->shape());
    const double error = relative_error(ours, *logits);
    const double error64 = relative_error(ours, *logits64);
    const double pytorch64 = relative_error(*logits, *logits64);
    std::printf(
        "%s-28: %zu tensors; max |dlfs - PyTorch| / max |logit| = %.2e (float32 PyTorch), %.2e "
        "(float64 twin; PyTorch float32 itself %.2e)\n",
        name.c_str(), weights.tensors.size(), error, error64, pytorch64);
    ::testing::Test::RecordProperty(name + "_relative_error", std::to_string(error));
    EXPECT_LE(error, kTolerance) << "dlfs's logits differ from PyTorch's";
  }
  std::filesystem::remove_all(root);
}

// The class count read from the weights, for every catalog model: a model built with 7 classes
// and saved without metadata is recognised as 7-class, whichever layer holds the classes
// (deep-convnet's logits node is a Dropout, ResNet's output layer is fc).
TEST(PyTorchImport, ClassCountComesFromTheOutputLayer) {
  for (const auto& info : model_catalog()) {
    SCOPED_TRACE(info.name);
    Model model = build_model(info.name, "", 7);
    SafetensorsContents contents;
    contents.tensors = model_state(model);
    EXPECT_EQ(weights_class_count(info.name, contents, "x.safetensors"), 7);
  }
}

TEST(PyTorchImport, ClassCountDefaultsToTenWithoutTheOutputLayer) {
  // load_weights then names the missing tensors; guessing here would only hide them.
  EXPECT_EQ(weights_class_count("lenet5", SafetensorsContents{}, "x.safetensors"), 10);
  SafetensorsContents flat;
  flat.tensors.emplace_back("fc3.weight", Tensor::zeros({840}));
  EXPECT_EQ(weights_class_count("lenet5", flat, "x.safetensors"), 10);
}

TEST(PyTorchImport, ClassCountOutOfRangeIsRefusedNamingTheTensor) {
  SafetensorsContents contents;
  contents.tensors.emplace_back("fc3.weight", Tensor::zeros({0, 84}));
  expect_one_sentence_input_error([&] { weights_class_count("lenet5", contents, "w.safetensors"); },
                                  "'w.safetensors'",
                                  {"'fc3.weight'", "[0, 84]", "0 classes", "from 1 to 100000"});
}

TEST(PyTorchImport, UnknownModelIsBuildModelsError) {
  try {
    weights_class_count("lenet6", SafetensorsContents{}, "w.safetensors");
    ADD_FAILURE() << "no error for an unknown model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'lenet6'; models: "), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dlfs
