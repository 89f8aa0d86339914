#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/relu.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_equivalence.hpp"

namespace dlfs {
namespace {

TEST(ReLULayerGradCheck, OddShape) {
  ReLU layer;
  Generator g(1);
  testing::GradCheckOptions options;
  options.kink = 1e-3;  // central differences straddling 0 are meaningless
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g)}, options);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_GT(r.checked, 900u);
}

TEST(ReLULayer, InferenceKeepsNothingForBackward) {
  ReLU layer;
  layer.forward({Tensor::zeros({2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2})), Error);
}

// ReLU at exactly 0 (+0 and -0): output +0 and no gradient, as PyTorch (the mask is x > 0).
// The large case takes the kernels' OpenMP branch.
void expect_relu_at_zero(const Device& device) {
  for (std::int64_t n : {8LL, 100000LL}) {
    SCOPED_TRACE(n);
    std::vector<float> xv(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < xv.size(); ++i)
      xv[i] = i % 4 == 0 ? 0.0f : i % 4 == 1 ? -0.0f : i % 4 == 2 ? 1e-30f : -1e-30f;
    ReLU layer;
    const std::vector<float> y =
        layer.forward({Tensor::from_vector<float>(xv, {n}).to(device)}, Mode::Train)
            .to_vector<float>();
    const std::vector<float> dx =
        layer.backward(Tensor::full({n}, 3.0).to(device))[0].to_vector<float>();
    for (std::size_t i = 0; i < xv.size(); ++i) {
      const bool positive = i % 4 == 2;
      ASSERT_EQ(y[i], positive ? 1e-30f : 0.0f) << i;
      ASSERT_FALSE(std::signbit(y[i])) << i << ": ReLU(-0) is +0";
      ASSERT_EQ(dx[i], positive ? 3.0f : 0.0f) << i;
    }
  }
}

TEST(ReLULayer, ZeroInputHasZeroOutputAndNoGradient) {
  expect_relu_at_zero(Device::cpu());
}

TEST(ReLULayerGpu, ZeroInputHasZeroOutputAndNoGradient) {
  DLFS_REQUIRE_GPU();
  expect_relu_at_zero(Device::cuda());
}

TEST(ReLULayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  ReLU cpu, gpu;
  testing::expect_layer_matches_on_gpu(cpu, gpu, testing::random_normal({3, 5, 7, 9}, 2), 3, 0.0);
}

}  // namespace
}  // namespace dlfs
