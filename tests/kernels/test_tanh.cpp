#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/tanh.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

template <typename T>
class TanhKernel : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(TanhKernel, FloatingTypes);

TYPED_TEST(TanhKernel, ForwardMatchesHandComputedValues) {
  using T = TypeParam;
  Tensor x = Tensor::from_vector<T>({0, 0.5, 1, -2, 1000, -1000}, {6});
  const std::vector<double> expected = {
      0.0, 0.46211715726000974, 0.7615941559557649, -0.9640275800758169, 1.0, -1.0};
  const std::vector<T> y = tanh_forward(x).to_vector<T>();
  ASSERT_EQ(y.size(), expected.size());
  const double ulp = std::is_same_v<T, float> ? 6e-8 : 1.2e-16;
  for (std::size_t i = 0; i < y.size(); ++i) {
    EXPECT_TRUE(std::isfinite(y[i]));
    EXPECT_NEAR(double(y[i]), expected[i], 4 * ulp * std::abs(expected[i])) << "element " << i;
  }
}

TYPED_TEST(TanhKernel, BackwardUsesTheStoredOutput) {
  using T = TypeParam;
  Tensor y = Tensor::from_vector<T>({0.5, -0.5, 1, 0, -1}, {5});
  Tensor dy = Tensor::from_vector<T>({2, 4, 3, 5, 7}, {5});
  // dy * (1 - y^2): 2*.75, 4*.75, 0, 5, 0; all exact in binary.
  EXPECT_EQ(tanh_backward(dy, y).to_vector<T>(), std::vector<T>({1.5, 3, 0, 5, 0}));
}

TEST(TanhKernel, RejectsMismatchedGradient) {
  EXPECT_THROW(tanh_backward(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})), Error);
  EXPECT_THROW(tanh_forward(Tensor::zeros({3}, DType::UInt8)), Error);
}

TEST(TanhGpu, MatchesCpuOnOddAndLargeShapes) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    Tensor x = testing::random_normal({n}, n, 3.0);
    Tensor dy = testing::random_normal({n}, n + 1);
    Tensor y = tanh_forward(x);
    // tanhf on the GPU is within 2 ulp of the CPU's tanh.
    EXPECT_TENSORS_CLOSE(y, tanh_forward(x.to(Device::cuda())), 1e-5);
    // From the same y the backward rounds the same operations in the same order (no FMA).
    EXPECT_TENSORS_CLOSE(tanh_backward(dy, y),
                         tanh_backward(dy.to(Device::cuda()), y.to(Device::cuda())), 0.0);
  }
}

// y = 1 - 3*2^-24: y*y = 1 - 6*2^-24 + 9*2^-48 rounds to 1 - 6*2^-24 in float32, so 1 - y*y is
// 3*2^-23 exactly; a fused multiply-add would round 3*2^-23 - 9*2^-48 to something else.
// Both twins must round the product first, or they stop being bit-identical.
float tanh_backward_of_almost_one(const Device& device) {
  const float y_value = 1.0f - 3 * std::ldexp(1.0f, -24);
  Tensor y = Tensor::from_vector<float>({y_value}, {1}).to(device);
  Tensor dy = Tensor::from_vector<float>({1.0f}, {1}).to(device);
  return tanh_backward(dy, y).to_vector<float>()[0];
}

TEST(TanhKernel, BackwardRoundsTheProductBeforeTheDifference) {
  EXPECT_EQ(tanh_backward_of_almost_one(Device::cpu()), 3 * std::ldexp(1.0f, -23));
}

TEST(TanhGpu, BackwardRoundsTheProductBeforeTheDifference) {
  DLFS_REQUIRE_GPU();
  EXPECT_EQ(tanh_backward_of_almost_one(Device::cuda()), 3 * std::ldexp(1.0f, -23));
}

}  // namespace
}  // namespace dlfs::kernels
