// Every catalog model's forward pass against its PyTorch twin (bench/pytorch_models.py) from the
// same weights, in inference and in train mode; tests/models/pytorch_forward.py does the PyTorch
// side. Needs Debian's python3-torch; where `import torch` fails, the tests skip and say so.
//
// For each model (the 28 and 32 sizes; 224 is skipped: AlexNet/VGG/ResNet at 224 take from
// several seconds to minutes per image on two CPU cores) this side
//  - builds it with He weights, random biases and random BatchNorm gamma, beta, running mean and
//    running variance (so inference mode really uses the running statistics),
//  - saves the checkpoint (model.safetensors, PyTorch state_dict names) and a batch of 4 images
//    (2 for ResNet-50),
//  - runs the batch in inference mode, then in train mode (BatchNorm on batch statistics,
//    Dropout with its seeded masks), and stores the logits of both, each Dropout layer's
//    mask-times-scale (from its own backward of ones) and the BatchNorm running statistics after
//    the train-mode step.
// The script loads the checkpoint into the twin with load_state_dict(strict=True), checks that
// every Dropout multiplier is 0 or 1 / (1 - p) with the twin's own p (and drops about p of the
// elements), applies those multipliers in place of nn.Dropout, and compares dlfs's float32 logits
// with the twin's in float64: within 1e-5 of the largest logit in magnitude, or 4 times PyTorch's
// own float32 error where that is larger (ResNet-50's train mode); running statistics within
// 1e-5 of the largest value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/dropout.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/python_torch.hpp"

namespace dlfs {
namespace {

using dlfs::testing::run_torch_script;
using dlfs::testing::shell;

// Random but reproducible state in which no parameter or buffer has its default value.
void randomize(Model& m, std::uint64_t seed) {
  Generator gen(seed);
  initialize(m, InitScheme::He, gen);
  for (const std::string& node : m.graph.order()) {
    Layer& layer = m.graph.layer(node);
    if (auto* bn = dynamic_cast<BatchNorm*>(&layer)) {
      bn->weight().value.uniform_(gen, 0.5, 1.5);
      bn->bias().value.normal_(gen, 0.0, 0.2);
      bn->running_mean().value.normal_(gen, 0.0, 0.3);
      bn->running_var().value.uniform_(gen, 0.5, 2.0);
      bn->num_batches_tracked().value.fill_(3);
      continue;
    }
    for (Parameter* p : layer.parameters())
      if (p->name == "bias") p->value.normal_(gen, 0.0, 0.1);
  }
}

// Writes DIR/model.safetensors and DIR/dlfs.safetensors for model `name` at `size`.
void write_case(const std::string& dir, const std::string& name, const std::string& size,
                std::int64_t batch) {
  Model m = build_model(name, size);
  randomize(m, 1234);
  save_model(dir + "/model.safetensors", m);

  Generator gen(99);
  Tensor images =
      Tensor::empty({batch, m.input_shape[0], m.input_shape[1], m.input_shape[2]}, DType::Float32);
  images.normal_(gen, 0.0, 1.0);
  std::vector<std::pair<std::string, Tensor>> out;
  out.emplace_back("input", images);
  out.emplace_back("logits.inference",
                   m.graph.run({{Model::kInput, images}}, m.logits_node, Mode::Inference).clone());
  out.emplace_back("logits.train",
                   m.graph.run({{Model::kInput, images}}, m.logits_node, Mode::Train).clone());
  for (const std::string& node : m.graph.order()) {
    Layer& layer = m.graph.layer(node);
    // An auxiliary classifier's Dropout is off the logits' path: it did not run.
    if (auto* dropout = dynamic_cast<Dropout*>(&layer);
        dropout && m.graph.output_shape(node).ndim()) {
      const Tensor ones = Tensor::full(m.graph.output_shape(node), 1.0, DType::Float32);
      out.emplace_back("dropout." + node, dropout->backward(ones).at(0).clone());
    }
    if (auto* bn = dynamic_cast<BatchNorm*>(&layer)) {
      out.emplace_back("after." + node + ".running_mean", bn->running_mean().value.clone());
      out.emplace_back("after." + node + ".running_var", bn->running_var().value.clone());
    }
  }
  // GoogLeNet's auxiliary classifiers, in inference mode after the train-mode step.
  for (const std::string& node : m.graph.order())
    if (node.rfind("aux", 0) == 0 && node.size() > 4 &&
        node.compare(node.size() - 4, 4, ".fc2") == 0)
      out.emplace_back("aux_logits." + node.substr(0, node.size() - 4),
                       m.graph.run({{Model::kInput, images}}, node, Mode::Inference).clone());
  save_safetensors(dir + "/dlfs.safetensors", out, {{"dlfs_model", name}, {"dlfs_variant", size}});
}

// Writes every case and runs the script once over them all (importing torch takes seconds).
void compare_with_pytorch(const std::vector<std::pair<std::string, std::string>>& models,
                          std::int64_t batch = 4) {
  const std::string root = ::testing::TempDir() + "dlfs_pytorch_forward_" +
                           std::to_string(::getpid()) + "_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string dirs;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [name, size] : models) {
    const std::string dir = root + "/" + name + "-" + size;
    ASSERT_EQ(shell("mkdir -p '" + dir + "'", nullptr), 0);
    write_case(dir, name, size, batch);
    dirs += " '" + dir + "'";
  }
  const auto written = std::chrono::steady_clock::now();
  const auto script =
      run_torch_script(std::string(DLFS_SOURCE_DIR) + "/tests/models/pytorch_forward.py" + dirs);
  if (!script.has_torch) {
    shell("rm -rf '" + root + "'", nullptr);
    GTEST_SKIP() << "PyTorch is not installed (Debian: apt-get install -y python3-torch); the "
                    "forward passes were NOT compared with the PyTorch twins:\n"
                 << script.output;
  }
  const int rc = script.exit_code;
  const std::string& output = script.output;
  EXPECT_EQ(rc, 0) << output;
  // One "OK <model>-<size> ..." line per case.
  for (const auto& [name, size] : models)
    EXPECT_NE(output.find("OK " + name + "-" + size + " "), std::string::npos)
        << name << " at " << size << " not confirmed:\n"
        << output;
  std::printf("%sdlfs side %.1f s, PyTorch side %.1f s\n", output.c_str(),
              std::chrono::duration<double>(written - start).count(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - written).count());
  if (rc == 0) shell("rm -rf '" + root + "'", nullptr);
}

TEST(PyTorchForward, BookNetsAndLeNet) {
  compare_with_pytorch({{"two-layer-net", "28"},
                        {"mlp", "28"},
                        {"mlp-bn", "28"},
                        {"mlp-dropout", "28"},
                        {"simple-convnet", "28"},
                        {"deep-convnet", "28"},
                        {"lenet5", "28"},
                        {"lenet5", "32"}});
}

TEST(PyTorchForward, AlexNetAndVggs) {
  compare_with_pytorch({{"alexnet", "28"},
                        {"vgg11", "28"},
                        {"vgg11-bn", "28"},
                        {"vgg16", "28"},
                        {"vgg16-bn", "28"},
                        {"vgg-small-bn", "28"},
                        {"resnet-small", "28"}});
}

// The ResNets in four tests, to keep each well under 20 s on two cores.
TEST(PyTorchForward, ResNet20And18) {
  compare_with_pytorch({{"resnet20", "28"}, {"resnet20", "32"}, {"resnet18", "28"}});
}

TEST(PyTorchForward, ResNet32And56) {
  compare_with_pytorch(
      {{"resnet32", "28"}, {"resnet32", "32"}, {"resnet56", "28"}, {"resnet56", "32"}});
}

TEST(PyTorchForward, ResNet14Wide) {
  compare_with_pytorch({{"resnet14-w2", "28"}, {"resnet14-w2", "32"}});
}

TEST(PyTorchForward, ResNet34) {
  compare_with_pytorch({{"resnet34", "28"}});
}

// A batch of 2: four images take 25 s here.
TEST(PyTorchForward, ResNet50) {
  compare_with_pytorch({{"resnet50", "28"}}, 2);
}

// GoogLeNet with and without its auxiliary classifiers (train mode runs them: their BatchNorm
// statistics and Dropout masks are compared too).
TEST(PyTorchForward, GoogLeNet) {
  compare_with_pytorch({{"googlenet", "28"}, {"googlenet-aux", "28"}}, 2);
}

// Every small catalog variant is in one of the lists above.
TEST(PyTorchForward, CoversTheCatalog) {
  int variants = 0;
  for (const auto& info : model_catalog())
    for (const auto& v : info.variants) variants += v == "224" ? 0 : 1;
  EXPECT_EQ(variants, 8 + 7 + 3 + 4 + 2 + 1 + 1 + 2);
}

}  // namespace
}  // namespace dlfs
