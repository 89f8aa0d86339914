#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/scale.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

template <typename T>
class ScaleKernel : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ScaleKernel, FloatingTypes);

TYPED_TEST(ScaleKernel, ScalesIntoANewTensorAndInPlace) {
  using T = TypeParam;
  Tensor x = Tensor::from_vector<T>({1, -2, 0.5, 0, 8, 3}, {3, 2});
  Tensor y = scale(x, 2.5);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_FALSE(y.same_storage(x));
  EXPECT_EQ(y.to_vector<T>(), std::vector<T>({2.5, -5, 1.25, 0, 20, 7.5}));
  EXPECT_EQ(x.to_vector<T>(), std::vector<T>({1, -2, 0.5, 0, 8, 3}));
  Tensor alias = x;
  scale_(x, -0.5);
  EXPECT_EQ(alias.to_vector<T>(), std::vector<T>({-0.5, 1, -0.25, 0, -4, -1.5}));
}

TYPED_TEST(ScaleKernel, AxpyAccumulatesAlphaTimesX) {
  using T = TypeParam;
  Tensor y = Tensor::from_vector<T>({1, 2, 3}, {3});
  Tensor x = Tensor::from_vector<T>({0.5, -1, 4}, {3});
  axpy_(y, 3.0, x);
  EXPECT_EQ(y.to_vector<T>(), std::vector<T>({2.5, -1, 15}));
  axpy_(y, -0.5, y);  // y += -0.5 y halves it
  EXPECT_EQ(y.to_vector<T>(), std::vector<T>({1.25, -0.5, 7.5}));
  EXPECT_EQ(x.to_vector<T>(), std::vector<T>({0.5, -1, 4}));
}

// alpha = x = 1 + 2^-k, y = -(1 + 2^-(k-1)), with k chosen so that alpha * x = 1 + 2^-(k-1) +
// 2^-2k is not representable and rounds to 1 + 2^-(k-1): the unfused axpy gives exactly 0, a
// fused multiply-add 2^-2k. Both twins promise the unfused result.
template <typename T>
T axpy_cancellation(const Device& device) {
  const int k = std::is_same_v<T, float> ? 12 : 27;
  const T a = T(1) + std::ldexp(T(1), -k);
  Tensor x = Tensor::from_vector<T>({a}, {1}).to(device);
  Tensor y = Tensor::from_vector<T>({-(T(1) + std::ldexp(T(1), -(k - 1)))}, {1}).to(device);
  axpy_(y, double(a), x);
  return y.to_vector<T>()[0];
}

TEST(ScaleKernel, AxpyRoundsTheProductBeforeTheSum) {
  EXPECT_EQ(axpy_cancellation<float>(Device::cpu()), 0.0f);
  EXPECT_EQ(axpy_cancellation<double>(Device::cpu()), 0.0);
}

TEST(ScaleKernel, RejectsMismatchedOperands) {
  Tensor y = Tensor::zeros({4});
  EXPECT_THROW(axpy_(y, 1.0, Tensor::zeros({5})), Error);
  EXPECT_THROW(axpy_(y, 1.0, Tensor::zeros({4}, DType::Float64)), Error);
  Tensor ints = Tensor::zeros({4}, DType::Int64);
  EXPECT_THROW(scale_(ints, 2.0), Error);
}

TEST(ScaleGpu, MatchesCpuOnOddAndLargeShapes) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    Tensor x = testing::random_normal({n}, n);
    Tensor y = testing::random_normal({n}, n + 1);
    Tensor x_gpu = x.to(Device::cuda()), y_gpu = y.to(Device::cuda());
    // alpha is rounded to float32 once on the host; each element is one rounded product (and
    // one rounded sum for axpy) on both devices: bit-identical.
    EXPECT_TENSORS_CLOSE(scale(x, 0.1), scale(x_gpu, 0.1), 0.0);
    scale_(x, -3.7);
    scale_(x_gpu, -3.7);
    EXPECT_TENSORS_CLOSE(x, x_gpu, 0.0);
    axpy_(y, 0.37, x);
    axpy_(y_gpu, 0.37, x_gpu);
    EXPECT_TENSORS_CLOSE(y, y_gpu, 0.0);
  }
}

TEST(ScaleGpu, AxpyRoundsTheProductBeforeTheSum) {
  DLFS_REQUIRE_GPU();
  EXPECT_EQ(axpy_cancellation<float>(Device::cuda()), 0.0f);
}

}  // namespace
}  // namespace dlfs::kernels
