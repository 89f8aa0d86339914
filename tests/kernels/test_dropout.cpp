#include <gtest/gtest.h>

#include "dlfs/kernels/dropout.hpp"
#include "dlfs/runtime/counter_rng.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

template <typename T>
class DropoutKernel : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(DropoutKernel, FloatingTypes);

double fraction_of_zeros(const std::vector<std::uint8_t>& mask) {
  std::int64_t zeros = 0;
  for (std::uint8_t m : mask) zeros += m == 0;
  return double(zeros) / double(mask.size());
}

TYPED_TEST(DropoutKernel, MaskIsTheCounterStreamAndKeptValuesAreScaledExactly) {
  using T = TypeParam;
  const double p = 0.3;
  const std::uint64_t seed = 42, offset = 7;
  Tensor x = testing::random_normal({10, 101}, 1, 1.0, dtype_of<T>());
  Tensor mask;
  Tensor y = dropout_forward(x, p, seed, offset, &mask);
  EXPECT_EQ(mask.dtype(), DType::UInt8);
  EXPECT_EQ(mask.shape(), x.shape());
  const std::vector<T> xv = x.to_vector<T>(), yv = y.to_vector<T>();
  const std::vector<std::uint8_t> mv = mask.to_vector<std::uint8_t>();
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const bool keep = rng::uniform_float(seed, offset + i) >= 0.3f;
    ASSERT_EQ(mv[i], keep) << i;
    ASSERT_EQ(yv[i], keep ? xv[i] * scale : T(0)) << i;
  }
}

TYPED_TEST(DropoutKernel, HalfDropsDoubleTheSurvivorsExactly) {
  using T = TypeParam;
  Tensor x = testing::random_normal({4097}, 2, 1.0, dtype_of<T>());
  Tensor mask;
  Tensor y = dropout_forward(x, 0.5, 9, 0, &mask);
  const std::vector<T> xv = x.to_vector<T>(), yv = y.to_vector<T>();
  const std::vector<std::uint8_t> mv = mask.to_vector<std::uint8_t>();
  for (std::size_t i = 0; i < xv.size(); ++i) ASSERT_EQ(yv[i], mv[i] ? 2 * xv[i] : T(0)) << i;
}

TYPED_TEST(DropoutKernel, BackwardPassesScaledGradientWhereKept) {
  using T = TypeParam;
  Tensor mask = Tensor::from_vector<std::uint8_t>({1, 0, 1, 1, 0}, {5});
  Tensor dy = Tensor::from_vector<T>({1, 2, -3, 0.5, 7}, {5});
  // p = 0.75: survivors are multiplied by 4.
  EXPECT_EQ(dropout_backward(dy, mask, 0.75).to_vector<T>(), std::vector<T>({4, 0, -12, 2, 0}));
}

TEST(DropoutKernel, FractionOfZerosIsNearP) {
  const std::int64_t n = 1 << 20;
  Tensor x = Tensor::full({n}, 1.0);
  for (double p : {0.1, 0.5, 0.8}) {
    Tensor mask;
    Tensor y = dropout_forward(x, p, 1234, 0, &mask);
    // The standard deviation of the fraction is sqrt(p (1 - p) / n) <= 5e-4; 3e-3 is 6 sigma.
    EXPECT_NEAR(fraction_of_zeros(mask.to_vector<std::uint8_t>()), p, 3e-3) << "p = " << p;
    const float kept = static_cast<float>(1.0 / (1.0 - p));
    std::int64_t zeros = 0;
    for (float v : y.to_vector<float>()) {
      ASSERT_TRUE(v == 0.0f || v == kept) << v;
      zeros += v == 0.0f;
    }
    EXPECT_NEAR(double(zeros) / double(n), p, 3e-3);
  }
}

TEST(DropoutKernel, SameSeedAndOffsetGiveTheSameMask) {
  Tensor x = testing::random_normal({3, 1001}, 3);
  Tensor m1, m2, m3, m4;
  Tensor y1 = dropout_forward(x, 0.4, 5, 100, &m1);
  Tensor y2 = dropout_forward(x, 0.4, 5, 100, &m2);
  EXPECT_EQ(m1.to_vector<std::uint8_t>(), m2.to_vector<std::uint8_t>());
  EXPECT_EQ(y1.to_vector<float>(), y2.to_vector<float>());
  dropout_forward(x, 0.4, 6, 100, &m3);  // another seed
  dropout_forward(x, 0.4, 5, 101, &m4);  // another offset
  const auto v1 = m1.to_vector<std::uint8_t>();
  // Independent masks with p = 0.4 agree on about 52% of 3003 elements, never on all.
  EXPECT_GT(testing::count_mismatches(v1, m3.to_vector<std::uint8_t>()), 1000);
  EXPECT_GT(testing::count_mismatches(v1, m4.to_vector<std::uint8_t>()), 1000);
}

TEST(DropoutKernel, OffsetShiftsTheStream) {
  // Element i uses counter offset + i: a mask drawn from offset 500 is the tail of one drawn
  // from offset 0, so consecutive forwards that advance the offset never reuse numbers.
  Tensor x = Tensor::full({2000}, 1.0);
  Tensor whole, tail;
  dropout_forward(x, 0.5, 77, 0, &whole);
  dropout_forward(x, 0.5, 77, 500, &tail);
  const auto w = whole.to_vector<std::uint8_t>(), t = tail.to_vector<std::uint8_t>();
  EXPECT_EQ(std::vector<std::uint8_t>(w.begin() + 500, w.end()),
            std::vector<std::uint8_t>(t.begin(), t.begin() + 1500));
}

TEST(DropoutKernel, MaskDoesNotDependOnTheElementType) {
  Tensor x = testing::random_normal({777}, 4);
  Tensor mask_float, mask_double;
  dropout_forward(x, 0.25, 11, 3, &mask_float);
  dropout_forward(x.to(DType::Float64), 0.25, 11, 3, &mask_double);
  EXPECT_EQ(mask_float.to_vector<std::uint8_t>(), mask_double.to_vector<std::uint8_t>());
}

TEST(DropoutKernel, ZeroAndOneAreTheEdges) {
  Tensor x = testing::random_normal({1000}, 5);
  Tensor mask;
  EXPECT_EQ(dropout_forward(x, 0.0, 1, 0, &mask).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(fraction_of_zeros(mask.to_vector<std::uint8_t>()), 0.0);
  EXPECT_EQ(dropout_forward(x, 1.0, 1, 0, &mask).to_vector<float>(), std::vector<float>(1000, 0));
  EXPECT_EQ(fraction_of_zeros(mask.to_vector<std::uint8_t>()), 1.0);
  EXPECT_EQ(dropout_backward(x, mask, 1.0).to_vector<float>(), std::vector<float>(1000, 0));
}

TEST(DropoutKernel, RejectsBadArguments) {
  Tensor x = Tensor::zeros({4});
  Tensor mask;
  EXPECT_THROW(dropout_forward(x, -0.1, 1, 0, &mask), Error);
  EXPECT_THROW(dropout_forward(x, 1.5, 1, 0, &mask), Error);
  EXPECT_THROW(dropout_backward(x, Tensor::zeros({4}), 0.5), Error);  // mask must be uint8
  EXPECT_THROW(dropout_backward(x, Tensor::zeros({5}, DType::UInt8), 0.5), Error);
}

TEST(DropoutGpu, MasksAreBitIdenticalAndValuesExact) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    Tensor x = testing::random_normal({n}, n);
    Tensor dy = testing::random_normal({n}, n + 1);
    for (double p : {0.5, 0.3}) {
      Tensor mask, mask_gpu;
      // A large offset checks that 64-bit counters reach the device intact.
      const std::uint64_t offset = (1ull << 40) + 3;
      Tensor y = dropout_forward(x, p, 2024, offset, &mask);
      Tensor y_gpu = dropout_forward(x.to(Device::cuda()), p, 2024, offset, &mask_gpu);
      EXPECT_EQ(testing::count_mismatches(mask.to_vector<std::uint8_t>(),
                                          mask_gpu.to_vector<std::uint8_t>()),
                0)
          << "n = " << n << ", p = " << p;
      // One multiplication by the same float32 factor: bit-identical.
      EXPECT_TENSORS_CLOSE(y, y_gpu, 0.0);
      EXPECT_TENSORS_CLOSE(dropout_backward(dy, mask, p),
                           dropout_backward(dy.to(Device::cuda()), mask_gpu, p), 0.0);
    }
  }
}

}  // namespace
}  // namespace dlfs::kernels
