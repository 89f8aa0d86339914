#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dlfs/kernels/add.hpp"
#include "dlfs/kernels/relu.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

template <typename T>
class AddKernel : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(AddKernel, FloatingTypes);

TYPED_TEST(AddKernel, AddsElementwiseIntoANewTensor) {
  using T = TypeParam;
  Tensor a = Tensor::from_vector<T>({1, 2, 3, -4, 0.5, 1e30}, {2, 3});
  Tensor b = Tensor::from_vector<T>({10, -2, 0.25, 4, 0.5, -1e30}, {2, 3});
  Tensor y = add(a, b);
  EXPECT_EQ(y.shape(), Shape({2, 3}));
  EXPECT_FALSE(y.same_storage(a));
  EXPECT_FALSE(y.same_storage(b));
  EXPECT_EQ(y.to_vector<T>(), std::vector<T>({11, 0, 3.25, 0, 1, 0}));
  EXPECT_EQ(a.to_vector<T>(), std::vector<T>({1, 2, 3, -4, 0.5, 1e30}));  // inputs untouched
}

// The sum and the clamp in one pass: the bits of add() and then the ReLU kernel, a sum of exactly
// zero (+0), -0 + -0 (-0, clamped to +0) and a NaN included.
TYPED_TEST(AddKernel, WithAReluAfterItIsTheSumThenTheReluBitForBit) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> a = {1, -2, 3, -4, T(-0.0), 0.1, 1e30, nan, 0.3};
  const std::vector<T> b = {-1, 1, -5, 4, T(-0.0), 0.2, 1e30, 1, -0.1};
  std::vector<T> sum(a.size()), expected(a.size()), fused(a.size());
  cpu::add(a.data(), b.data(), sum.data(), static_cast<std::int64_t>(a.size()));
  cpu::relu_forward(sum.data(), expected.data(), nullptr, static_cast<std::int64_t>(a.size()));
  cpu::add_relu(a.data(), b.data(), fused.data(), static_cast<std::int64_t>(a.size()));
  EXPECT_EQ(0, std::memcmp(expected.data(), fused.data(), a.size() * sizeof(T)));
  EXPECT_EQ(fused[0], T(0));
  EXPECT_FALSE(std::signbit(fused[4]));
  EXPECT_EQ(fused[6], T(2e30));
  EXPECT_EQ(fused[8], a[8] + b[8]);
}

TYPED_TEST(AddKernel, InPlaceAccumulates) {
  using T = TypeParam;
  Tensor a = Tensor::from_vector<T>({1, 2, 3}, {3});
  Tensor b = Tensor::from_vector<T>({0.5, -2, 7}, {3});
  Tensor alias = a;  // shares storage: add_ must write there, not rebind a
  add_(a, b);
  EXPECT_TRUE(a.same_storage(alias));
  EXPECT_EQ(alias.to_vector<T>(), std::vector<T>({1.5, 0, 10}));
  add_(a, b);
  EXPECT_EQ(a.to_vector<T>(), std::vector<T>({2, -2, 17}));
  add_(a, a);  // a += a doubles
  EXPECT_EQ(a.to_vector<T>(), std::vector<T>({4, -4, 34}));
  EXPECT_EQ(b.to_vector<T>(), std::vector<T>({0.5, -2, 7}));
}

TEST(AddKernel, RejectsMismatchedOperands) {
  Tensor a = Tensor::zeros({2, 3});
  EXPECT_THROW(add(a, Tensor::zeros({3, 2})), Error);
  EXPECT_THROW(add(a, Tensor::zeros({2, 3}, DType::Float64)), Error);
  EXPECT_THROW(add_(a, Tensor::zeros({6})), Error);
  EXPECT_THROW(add(Tensor::zeros({2}, DType::Int32), Tensor::zeros({2}, DType::Int32)), Error);
  EXPECT_THROW(add(a, Tensor()), Error);
}

TEST(AddGpu, MatchesCpuOnOddAndLargeShapes) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    Tensor a = testing::random_normal({n}, n);
    Tensor b = testing::random_normal({n}, n + 1);
    Tensor a_gpu = a.to(Device::cuda()), b_gpu = b.to(Device::cuda());
    // One correctly rounded addition per element on both devices: bit-identical.
    EXPECT_TENSORS_CLOSE(add(a, b), add(a_gpu, b_gpu), 0.0);
    add_(a, b);
    add_(a_gpu, b_gpu);
    EXPECT_TENSORS_CLOSE(a, a_gpu, 0.0);
  }
}

}  // namespace
}  // namespace dlfs::kernels
