#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/dropout.hpp"
#include "dlfs/layers/dropout.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(DropoutGradCheck, OddShape) {
  Dropout layer(0.3, 99);
  Generator g(1);
  testing::GradCheckOptions options;
  options.before_forward = [&] { layer.set_state(99, 0); };  // every forward: the same mask
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g)}, options);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 945u);
}

TEST(DropoutGradCheck, FailsWithoutReseeding) {
  // Each forward draws a fresh mask, so finite differences compare different functions: the
  // reseed in OddShape is what makes the check meaningful.
  Dropout layer(0.3, 99);
  Generator g(1);
  auto r = testing::check_gradients(layer, {testing::random_tensor({2, 3, 5}, g)});
  EXPECT_FALSE(r.failures.empty());
}

TEST(DropoutLayer, TrainForwardIsTheKernelAtTheLayersCounter) {
  Dropout layer(0.25, 7);
  Tensor x = testing::random_normal({4, 33}, 1);
  Tensor y = layer.forward({x}, Mode::Train);
  Tensor mask;
  Tensor expected = kernels::dropout_forward(x, 0.25, 7, 0, &mask);
  EXPECT_EQ(y.to_vector<float>(), expected.to_vector<float>());
  EXPECT_EQ(layer.offset(), 132u);
  Tensor dy = testing::random_normal({4, 33}, 2);
  EXPECT_EQ(layer.backward(dy)[0].to_vector<float>(),
            kernels::dropout_backward(dy, mask, 0.25).to_vector<float>());
}

TEST(DropoutLayer, EachTrainForwardDrawsAFreshMaskAndSetStateReplaysIt) {
  Dropout layer(0.5, 3);
  Tensor x = Tensor::full({2, 1000}, 1.0);
  const std::vector<float> first = layer.forward({x}, Mode::Train).to_vector<float>();
  const std::vector<float> second = layer.forward({x}, Mode::Train).to_vector<float>();
  EXPECT_EQ(layer.offset(), 4000u);
  // Two independent masks with p = 0.5 differ on about half of 2000 elements.
  EXPECT_GT(testing::count_mismatches(first, second), 800);
  layer.set_seed(3);
  EXPECT_EQ(layer.forward({x}, Mode::Train).to_vector<float>(), first);
  layer.set_state(3, 2000);
  EXPECT_EQ(layer.forward({x}, Mode::Train).to_vector<float>(), second);
  layer.set_seed(4);
  EXPECT_GT(testing::count_mismatches(layer.forward({x}, Mode::Train).to_vector<float>(), first),
            800);
}

TEST(DropoutLayer, InferenceIsTheIdentity) {
  Dropout layer(0.5, 3);
  Tensor x = testing::random_normal({3, 7}, 1);
  layer.forward({x}, Mode::Train);
  Tensor y = layer.forward({x}, Mode::Inference);
  EXPECT_TRUE(y.same_storage(x));
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(layer.offset(), 21u);  // inference draws no numbers
  EXPECT_THROW(layer.backward(x), Error);
}

TEST(DropoutLayer, DescribesAndValidatesP) {
  EXPECT_EQ(Dropout(0.5).describe(), "p=0.5");
  EXPECT_THROW(Dropout(1.5), Error);
  EXPECT_THROW(Dropout(-0.1), Error);
}

TEST(DropoutLayer, PZeroKeepsEverythingAndPOneDropsEverything) {
  Tensor x = testing::random_normal({5, 7}, 4);
  Tensor dy = testing::random_normal({5, 7}, 5);
  Dropout none(0.0, 1);
  EXPECT_EQ(none.forward({x}, Mode::Train).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(none.backward(dy)[0].to_vector<float>(), dy.to_vector<float>());
  Dropout all(1.0, 1);
  EXPECT_EQ(all.forward({x}, Mode::Train).to_vector<float>(), std::vector<float>(35, 0.0f));
  EXPECT_EQ(all.backward(dy)[0].to_vector<float>(), std::vector<float>(35, 0.0f));
}

// The scale checked against 1 / (1 - p) computed here, not the layer's own constant (the
// gradient checks above would pass with any scale that forward and backward share).
TEST(DropoutLayer, KeptElementsAreScaledByOneOverOneMinusP) {
  for (double p : {0.1, 0.3, 0.75}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Dropout layer(p, 11);
    const std::int64_t n = 20000;
    Tensor x = testing::random_normal({n}, 6);
    Tensor dy = testing::random_normal({n}, 7);
    const std::vector<float> xv = x.to_vector<float>(), dyv = dy.to_vector<float>();
    const std::vector<float> y = layer.forward({x}, Mode::Train).to_vector<float>();
    const std::vector<float> dx = layer.backward(dy)[0].to_vector<float>();
    std::int64_t kept = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      if (y[i] == 0.0f && xv[i] != 0.0f) {
        EXPECT_EQ(dx[i], 0.0f) << i;  // dropped: no gradient either
        continue;
      }
      ++kept;
      EXPECT_NEAR(y[i], xv[i] / (1.0 - p), 1e-6 * std::abs(xv[i] / (1.0 - p))) << i;
      EXPECT_NEAR(dx[i], dyv[i] / (1.0 - p), 1e-6 * std::abs(dyv[i] / (1.0 - p))) << i;
    }
    // Kept ~ Binomial(n, 1 - p): within 5 standard deviations.
    const double sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(kept), n * (1 - p), 5 * sd);
  }
}

TEST(DropoutLayer, TrainOutputEqualsTheInputInExpectation) {
  // x = 1: each y is 0 or 1 / (1 - p), with mean 1 and variance p / (1 - p); the mean of n of
  // them lies within 5 standard errors of 1. A scale of 1 (the book's train-time dropout) or
  // 1 - p would miss by far more than that.
  const std::int64_t n = 200000;
  for (double p : {0.2, 0.5, 0.8}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    Dropout layer(p, 21);
    const std::vector<float> y =
        layer.forward({Tensor::full({n}, 1.0)}, Mode::Train).to_vector<float>();
    double sum = 0;
    for (float v : y) sum += v;
    const double standard_error = std::sqrt(p / (1 - p) / static_cast<double>(n));
    EXPECT_NEAR(sum / static_cast<double>(n), 1.0, 5 * standard_error);
  }
}

TEST(DropoutLayerGpu, MasksMatchCpuAcrossForwards) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{32, 64, 56, 56}}) {
    Dropout cpu(0.3, 2024), gpu(0.3, 2024);
    for (int step = 0; step < 2; ++step) {  // the second forward uses the advanced counter
      Tensor x = testing::random_normal(shape, 10 + step);
      Tensor dy = testing::random_normal(shape, 20 + step);
      // Same counters, same float32 threshold and factor: bit-identical masks and values.
      EXPECT_TENSORS_CLOSE(cpu.forward({x}, Mode::Train),
                           gpu.forward({x.to(Device::cuda())}, Mode::Train), 0.0);
      EXPECT_EQ(cpu.offset(), gpu.offset());
      EXPECT_TENSORS_CLOSE(cpu.backward(dy)[0], gpu.backward(dy.to(Device::cuda()))[0], 0.0);
    }
    Tensor x_gpu = testing::random_normal(shape, 30).to(Device::cuda());
    EXPECT_TRUE(gpu.forward({x_gpu}, Mode::Inference).same_storage(x_gpu));
  }
}

}  // namespace
}  // namespace dlfs
