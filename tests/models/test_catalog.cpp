#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"

namespace dlfs {
namespace {

std::int64_t count(const std::string& name, const std::string& variant) {
  return build_model(name, variant).graph.parameter_count();
}

// torchvision's published parameter counts for the same architectures at 3x224x224, 1000 classes.
TEST(ModelCatalog, CanonicalParameterCountsEqualTorchvision) {
  EXPECT_EQ(count("alexnet", "224"), 61100840);
  EXPECT_EQ(count("vgg11", "224"), 132863336);
  EXPECT_EQ(count("vgg11-bn", "224"), 132868840);
  EXPECT_EQ(count("vgg16", "224"), 138357544);
  EXPECT_EQ(count("vgg16-bn", "224"), 138365992);
  EXPECT_EQ(count("resnet18", "224"), 11689512);
  EXPECT_EQ(count("resnet34", "224"), 21797672);
  EXPECT_EQ(count("resnet50", "224"), 25557032);
  // torchvision's googlenet() without and with its auxiliary classifiers (aux_logits).
  EXPECT_EQ(count("googlenet", "224"), 6624904);
  EXPECT_EQ(count("googlenet-aux", "224"), 13004888);
}

TEST(ModelCatalog, SmallModelsHaveTheCountsTheirLayersImply) {
  EXPECT_EQ(count("two-layer-net", ""), 784 * 100 + 100 + 100 * 10 + 10);
  EXPECT_EQ(count("simple-convnet", ""), (30 * 25 + 30) + (4320 * 100 + 100) + (100 * 10 + 10));
  EXPECT_EQ(count("lenet5", "28"), 156 + 2416 + 48120 + 10164 + 850);
  EXPECT_EQ(count("lenet5", "32"), count("lenet5", "28"));
  // vgg-small-bn: six 3x3 convs with bias and BN (weight and bias), then 1152-256-10.
  auto conv_bn = [](std::int64_t in, std::int64_t out) { return out * in * 9 + out + 2 * out; };
  EXPECT_EQ(count("vgg-small-bn", ""), conv_bn(1, 32) + conv_bn(32, 32) + conv_bn(32, 64) +
                                           conv_bn(64, 64) + conv_bn(64, 128) + conv_bn(128, 128) +
                                           (1152 * 256 + 256) + (256 * 10 + 10));
  // resnet-small: vgg-small-bn's layers with bias-free convs, plus three 1x1-conv + BN shortcuts.
  auto conv_nobias_bn = [](std::int64_t in, std::int64_t out, std::int64_t k) {
    return out * in * k * k + 2 * out;
  };
  EXPECT_EQ(count("resnet-small", ""),
            conv_nobias_bn(1, 32, 3) + conv_nobias_bn(32, 32, 3) + conv_nobias_bn(1, 32, 1) +
                conv_nobias_bn(32, 64, 3) + conv_nobias_bn(64, 64, 3) + conv_nobias_bn(32, 64, 1) +
                conv_nobias_bn(64, 128, 3) + conv_nobias_bn(128, 128, 3) +
                conv_nobias_bn(64, 128, 1) + (1152 * 256 + 256) + (256 * 10 + 10));
  // ResNet-20 for CIFAR: the paper's 0.27M parameters.
  const std::int64_t r20 = count("resnet20", "32");
  EXPECT_GT(r20, 265000);
  EXPECT_LT(r20, 280000);
  // The CIFAR ResNets with n blocks per stage, layer by layer: the stem, 2n convolutions of 16
  // channels, then per stage a strided first convolution, its 1x1 shortcut and 2n - 1 more.
  for (const auto& [name, n] :
       {std::pair<const char*, std::int64_t>{"resnet20", 3}, {"resnet32", 5}, {"resnet56", 9}})
    for (const std::int64_t in_channels : {1, 3}) {
      SCOPED_TRACE(std::string(name) + " on " + std::to_string(in_channels) + " channels");
      const std::int64_t expected =
          conv_nobias_bn(in_channels, 16, 3) + 2 * n * conv_nobias_bn(16, 16, 3) +
          conv_nobias_bn(16, 32, 3) + conv_nobias_bn(16, 32, 1) +
          (2 * n - 1) * conv_nobias_bn(32, 32, 3) + conv_nobias_bn(32, 64, 3) +
          conv_nobias_bn(32, 64, 1) + (2 * n - 1) * conv_nobias_bn(64, 64, 3) + (64 * 10 + 10);
      EXPECT_EQ(count(name, in_channels == 1 ? "28" : "32"), expected);
    }
  // resnet14-w2: the same layout at twice the width (32-64-128 channels), 2 blocks per stage.
  for (const std::int64_t in_channels : {1, 3}) {
    SCOPED_TRACE("resnet14-w2 on " + std::to_string(in_channels) + " channels");
    const std::int64_t expected = conv_nobias_bn(in_channels, 32, 3) +
                                  4 * conv_nobias_bn(32, 32, 3) + conv_nobias_bn(32, 64, 3) +
                                  conv_nobias_bn(32, 64, 1) + 3 * conv_nobias_bn(64, 64, 3) +
                                  conv_nobias_bn(64, 128, 3) + conv_nobias_bn(64, 128, 1) +
                                  3 * conv_nobias_bn(128, 128, 3) + (128 * 10 + 10);
    EXPECT_EQ(count("resnet14-w2", in_channels == 1 ? "28" : "32"), expected);
  }
  // The paper's 0.46M and 0.85M for ResNet-32 and ResNet-56.
  EXPECT_EQ(count("resnet32", "32") / 10000, 46);
  EXPECT_EQ(count("resnet56", "32") / 10000, 85);
}

TEST(ModelCatalog, EveryModelBuildsAtEveryVariantWithPyTorchNames) {
  for (const auto& info : model_catalog())
    for (const auto& v : info.variants) {
      if (v == "224") continue;  // built by the count test
      Model m = build_model(info.name, v);
      EXPECT_EQ(m.classes, 10) << info.name;
      EXPECT_TRUE(m.graph.has_node(m.logits_node)) << info.name;
      EXPECT_TRUE(m.graph.has_node(Model::kLossNode)) << info.name;
      EXPECT_GT(m.graph.parameter_count(), 0) << info.name;
    }
  Model r = build_model("resnet18", "28");
  std::vector<std::string> names;
  for (const auto& p : r.graph.parameters()) names.push_back(p.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "layer2.0.downsample.0.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "layer1.1.bn2.bias"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "fc.weight"), names.end());
  std::vector<std::string> buffers;
  for (const auto& b : r.graph.buffers()) buffers.push_back(b.name);
  EXPECT_NE(std::find(buffers.begin(), buffers.end(), "bn1.running_var"), buffers.end());
}

TEST(ModelCatalog, UnknownNamesAndVariantsAreOneSentence) {
  try {
    build_model("resnet9000");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'resnet9000'; models: two-layer-net"),
              std::string::npos);
  }
  EXPECT_THROW(build_model("lenet5", "224"), InputError);
}

TEST(ModelInit, HeXavierAndStdUseTheFanIn) {
  EXPECT_DOUBLE_EQ(init_std(InitScheme::He, 50), 0.2);
  EXPECT_DOUBLE_EQ(init_std(InitScheme::Xavier, 100), 0.1);
  EXPECT_DOUBLE_EQ(init_std(InitScheme::Std, 7), 0.01);
  EXPECT_THROW(parse_init_scheme("glorot"), InputError);

  Model m = build_model("two-layer-net");
  Generator gen(0);
  initialize(m, InitScheme::He, gen);
  auto w = m.graph.layer("fc1").parameters()[0]->value.to_vector<float>();
  double sq = 0;
  for (float v : w) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / w.size()), std::sqrt(2.0 / 784), 0.002);
  for (float v : m.graph.layer("fc1").parameters()[1]->value.to_vector<float>()) EXPECT_EQ(v, 0.0f);

  Model again = build_model("two-layer-net");
  Generator gen2(0);
  initialize(again, InitScheme::He, gen2);
  EXPECT_EQ(again.graph.layer("fc1").parameters()[0]->value.to_vector<float>(), w);
}

}  // namespace
}  // namespace dlfs
