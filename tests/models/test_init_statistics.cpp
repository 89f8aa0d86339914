// Weight initialisation checked statistically, for every scheme, on convolution weights of
// several kernel shapes (square, non-square, 1x1) and on fully connected weights, inside a model
// and through initialize() as `dlfs train` calls it.
//
// The expected standard deviation is computed here from the layer's geometry (fan-in =
// in_channels * kernel_h * kernel_w for a convolution, in_features for Affine), not from the
// tensor. Tolerances come from the sample size n: for n independent N(0, s^2) draws the sample
// mean has standard error s / sqrt(n), the sample standard deviation a relative standard error
// of 1 / sqrt(2n), and the fraction within one s is binomial around 0.6827 with standard error
// sqrt(0.6827 * 0.3173 / n). Each is allowed 5 standard errors (a false alarm about once in
// 1.7 million checks; the draws are seeded, so the outcome is fixed anyway).
#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"

namespace dlfs {
namespace {

struct WeightSpec {
  std::string node;
  std::int64_t in, out, kh, kw;  // kh = kw = 0: fully connected
  std::int64_t fan_in() const { return kh == 0 ? in : in * kh * kw; }
};

// A model whose nodes hold the layers under test (never run: only initialize() reads it).
Model model_with(const std::vector<WeightSpec>& specs) {
  Model m;
  m.graph.add_input(Model::kInput);
  std::string last = Model::kInput;
  for (const auto& s : specs) {
    LayerPtr layer =
        s.kh == 0
            ? LayerPtr(std::make_unique<Affine>(s.in, s.out))
            : LayerPtr(std::make_unique<Convolution>(s.in, s.out, s.kh, s.kw, 1, 0, /*bias=*/true));
    m.graph.add(s.node, std::move(layer), {last});
    last = s.node;
  }
  m.graph.add("bn", std::make_unique<BatchNorm>(4), {last});
  return m;
}

double expected_std(InitScheme scheme, std::int64_t fan_in) {
  switch (scheme) {
    case InitScheme::Std:
      return 0.01;
    case InitScheme::Xavier:
      return 1.0 / std::sqrt(static_cast<double>(fan_in));
    case InitScheme::He:
    case InitScheme::Auto:
      return std::sqrt(2.0 / static_cast<double>(fan_in));
  }
  return 0.0;
}

const char* scheme_name(InitScheme s) {
  switch (s) {
    case InitScheme::Std:
      return "std";
    case InitScheme::Xavier:
      return "xavier";
    case InitScheme::He:
      return "he";
    case InitScheme::Auto:
      return "auto";
  }
  return "?";
}

// Checks one weight tensor's draws against N(0, sigma^2).
void expect_normal(const std::vector<float>& w, double sigma, const std::string& what) {
  const double n = static_cast<double>(w.size());
  double sum = 0, sq = 0, within = 0;
  for (float v : w) {
    sum += v;
    sq += double(v) * v;
    within += std::fabs(v) <= sigma ? 1 : 0;
  }
  const double mean = sum / n;
  const double sd = std::sqrt((sq - n * mean * mean) / (n - 1));
  EXPECT_LE(std::fabs(mean), 5 * sigma / std::sqrt(n)) << what << ": mean " << mean;
  EXPECT_LE(std::fabs(sd / sigma - 1), 5 / std::sqrt(2 * n))
      << what << ": sample std " << sd << ", expected " << sigma << " (n " << n << ")";
  const double p = 0.682689492;  // P(|Z| <= 1)
  EXPECT_LE(std::fabs(within / n - p), 5 * std::sqrt(p * (1 - p) / n))
      << what << ": fraction within one std " << within / n;
}

const std::vector<WeightSpec> kSpecs = {
    {"conv5x5", 3, 16, 5, 5},   // fan-in 75, 1200 draws
    {"conv3x3", 16, 32, 3, 3},  // fan-in 144, 4608 draws
    {"conv3x5", 4, 24, 3, 5},   // non-square: fan-in 60, 1440 draws
    {"conv7x7", 1, 8, 7, 7},    // one input channel: fan-in 49, 392 draws
    {"conv1x1", 64, 32, 1, 1},  // fan-in 64, 2048 draws
    {"fc_wide", 784, 100, 0, 0}, {"fc_small", 30, 10, 0, 0},
};

TEST(InitStatistics, EverySchemeDrawsN0SigmaWithSigmaFromTheFanIn) {
  for (InitScheme scheme :
       {InitScheme::He, InitScheme::Xavier, InitScheme::Std, InitScheme::Auto}) {
    Model m = model_with(kSpecs);
    Generator gen(42);
    initialize(m, scheme, gen);
    for (const auto& s : kSpecs) {
      const std::string what = std::string(scheme_name(scheme)) + " " + s.node;
      auto params = m.graph.layer(s.node).parameters();
      ASSERT_EQ(params.size(), 2u) << what;
      const std::vector<float> w = params[0]->value.to_vector<float>();
      ASSERT_EQ(static_cast<std::int64_t>(w.size()), s.out * s.fan_in()) << what;
      expect_normal(w, expected_std(scheme, s.fan_in()), what);
      for (float b : params[1]->value.to_vector<float>()) ASSERT_EQ(b, 0.0f) << what << " bias";
    }
    // BatchNorm keeps gamma 1, beta 0.
    auto bn = m.graph.layer("bn").parameters();
    for (float g : bn[0]->value.to_vector<float>()) EXPECT_EQ(g, 1.0f);
    for (float b : bn[1]->value.to_vector<float>()) EXPECT_EQ(b, 0.0f);
  }
}

// Weights of different layers (and different seeds) are different draws, not one stream reused.
TEST(InitStatistics, LayersAndSeedsDrawIndependentWeights) {
  Model a = model_with(kSpecs), b = model_with(kSpecs);
  Generator g1(1), g2(2);
  initialize(a, InitScheme::He, g1);
  initialize(b, InitScheme::He, g2);
  auto first = [](Model& m, const std::string& node, std::size_t count) {
    auto v = m.graph.layer(node).parameters()[0]->value.to_vector<float>();
    v.resize(count);
    return v;
  };
  EXPECT_NE(first(a, "conv5x5", 64), first(b, "conv5x5", 64));
  // Standardised, two layers' first draws are not the same sequence.
  const double s5 = expected_std(InitScheme::He, 75), s3 = expected_std(InitScheme::He, 144);
  auto x = first(a, "conv5x5", 64), y = first(a, "conv3x3", 64);
  int same = 0;
  for (int i = 0; i < 64; ++i) same += std::fabs(x[i] / s5 - y[i] / s3) < 1e-6 ? 1 : 0;
  EXPECT_LT(same, 2);
}

// The catalog's own layers, as `dlfs train --init he|xavier` initialises them: LeNet-5's
// 5x5 convolutions and ResNet-20's 3x3 and 1x1 ones.
TEST(InitStatistics, CatalogModelsUseTheKernelAreaInTheFanIn) {
  struct Case {
    std::string model, node;
    std::int64_t fan_in;
  };
  const std::vector<Case> cases = {
      {"lenet5", "conv2", 6 * 5 * 5},
      {"lenet5", "fc1", 400},
      {"lenet5", "fc2", 120},
      {"resnet20", "layer2.1.conv1", 32 * 3 * 3},
      {"resnet20", "layer3.0.conv2", 64 * 3 * 3},
      {"resnet20", "layer3.0.downsample.0", 32},
  };
  for (InitScheme scheme : {InitScheme::He, InitScheme::Xavier}) {
    Model lenet = build_model("lenet5"), resnet = build_model("resnet20", "28");
    Generator g1(5), g2(6);
    initialize(lenet, scheme, g1);
    initialize(resnet, scheme, g2);
    for (const auto& c : cases) {
      Model& m = c.model == "lenet5" ? lenet : resnet;
      expect_normal(m.graph.layer(c.node).parameters()[0]->value.to_vector<float>(),
                    expected_std(scheme, c.fan_in),
                    std::string(scheme_name(scheme)) + " " + c.model + " " + c.node);
    }
  }
}

}  // namespace
}  // namespace dlfs
