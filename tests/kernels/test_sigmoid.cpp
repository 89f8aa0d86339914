#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/sigmoid.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

template <typename T>
class SigmoidKernel : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SigmoidKernel, FloatingTypes);

TYPED_TEST(SigmoidKernel, ForwardMatchesHandComputedValues) {
  using T = TypeParam;
  Tensor x = Tensor::from_vector<T>({0, 1, -1, 2, -3, 20, -20}, {7});
  // 1 / (1 + e^-x), to 16 digits.
  const std::vector<double> expected = {0.5,
                                        0.7310585786300049,
                                        0.2689414213699951,
                                        0.8807970779778823,
                                        0.04742587317756679,
                                        0.9999999979388463,
                                        2.0611536181902033e-09};
  const std::vector<T> y = sigmoid_forward(x).to_vector<T>();
  ASSERT_EQ(y.size(), expected.size());
  const double ulp = std::is_same_v<T, float> ? 6e-8 : 1.2e-16;
  for (std::size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(double(y[i]), expected[i], 4 * ulp * expected[i]) << "x = " << i;
}

TYPED_TEST(SigmoidKernel, ExtremeInputsSaturateWithoutNanOrInf) {
  using T = TypeParam;
  Tensor x = Tensor::from_vector<T>({1000, -1000, 89, -89, 710, -710}, {6});
  const std::vector<T> y = sigmoid_forward(x).to_vector<T>();
  for (T v : y) EXPECT_TRUE(std::isfinite(v)) << v;
  EXPECT_EQ(y[0], T(1));
  EXPECT_EQ(y[1], T(0));
  EXPECT_EQ(y[2], T(1));
  // e^-89 ~ 2.2e-39: a float32 denormal, an ordinary double; never negative or NaN.
  EXPECT_GE(y[3], T(0));
  EXPECT_LT(double(y[3]), 1e-38);
  EXPECT_EQ(y[4], T(1));
  EXPECT_GE(y[5], T(0));
  EXPECT_LE(double(y[5]), 1e-300);
  // The backward from saturated outputs is an exact zero, not NaN.
  Tensor dy = Tensor::full({6}, 1.0, dtype_of<T>());
  const std::vector<T> dx = sigmoid_backward(dy, sigmoid_forward(x)).to_vector<T>();
  EXPECT_EQ(dx[0], T(0));
  EXPECT_EQ(dx[1], T(0));
}

TYPED_TEST(SigmoidKernel, BackwardUsesTheStoredOutput) {
  using T = TypeParam;
  Tensor y = Tensor::from_vector<T>({0.5, 0.25, 1, 0, 0.75}, {5});
  Tensor dy = Tensor::from_vector<T>({2, 4, 3, 5, -8}, {5});
  // dy * y * (1 - y): 2*.5*.5, 4*.25*.75, 0, 0, -8*.75*.25; all exact in binary.
  EXPECT_EQ(sigmoid_backward(dy, y).to_vector<T>(), std::vector<T>({0.5, 0.75, 0, 0, -1.5}));
}

TEST(SigmoidKernel, RejectsMismatchedGradient) {
  EXPECT_THROW(sigmoid_backward(Tensor::zeros({3}), Tensor::zeros({4})), Error);
  EXPECT_THROW(sigmoid_backward(Tensor::zeros({3}), Tensor::zeros({3}, DType::Float64)), Error);
  EXPECT_THROW(sigmoid_forward(Tensor::zeros({3}, DType::Int32)), Error);
}

TEST(SigmoidGpu, MatchesCpuOnOddAndLargeShapes) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    // stddev 6 reaches the saturated tails on both sides.
    Tensor x = testing::random_normal({n}, n, 6.0);
    Tensor dy = testing::random_normal({n}, n + 1);
    Tensor y = sigmoid_forward(x);
    Tensor y_gpu = sigmoid_forward(x.to(Device::cuda()));
    // expf on the GPU is within 2 ulp of the CPU's exp: a few 1e-7 relative at most.
    EXPECT_TENSORS_CLOSE(y, y_gpu, 1e-5);
    // From the same y the backward is multiplications only: bit-identical.
    EXPECT_TENSORS_CLOSE(sigmoid_backward(dy, y),
                         sigmoid_backward(dy.to(Device::cuda()), y.to(Device::cuda())), 0.0);
  }
}

TEST(SigmoidGpu, ExtremeInputsSaturateWithoutNanOrInf) {
  DLFS_REQUIRE_GPU();
  Tensor x = Tensor::from_vector<float>({1000, -1000, 89, -89, 0, -0.0f}, {6});
  const std::vector<float> y = sigmoid_forward(x.to(Device::cuda())).to_vector<float>();
  for (float v : y) EXPECT_TRUE(std::isfinite(v)) << v;
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[4], 0.5f);
  EXPECT_EQ(y[5], 0.5f);
  EXPECT_TENSORS_CLOSE(sigmoid_forward(x), Tensor::from_vector<float>(y, {6}), 1e-5);
}

}  // namespace
}  // namespace dlfs::kernels
