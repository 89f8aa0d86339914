#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dlfs/kernels/softmax.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/softmax_test_data.hpp"

namespace dlfs::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected,
                     float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "at [" << i << "]";
}

TEST(Softmax, BookExample) {
  // The book's softmax([0.3, 2.9, 4.0]).
  Tensor y = softmax(Tensor::from_vector<float>({0.3f, 2.9f, 4.0f}, {1, 3}));
  expect_near_all(y.to_vector<float>(), {0.01821127f, 0.24519181f, 0.73659691f}, 1e-7f);
}

TEST(Softmax, HandComputedRows) {
  // exp(log k) = k: rows [1, 3] and [1, 2, 5] normalise to quarters and eighths.
  Tensor y = softmax(Tensor::from_vector<double>({0, std::log(3.0)}, {1, 2}));
  EXPECT_NEAR(y.to_vector<double>()[0], 0.25, 1e-15);
  EXPECT_NEAR(y.to_vector<double>()[1], 0.75, 1e-15);
  Tensor z = softmax(Tensor::from_vector<double>({0, std::log(2.0), std::log(5.0)}, {1, 3}));
  const std::vector<double> v = z.to_vector<double>();
  EXPECT_NEAR(v[0], 0.125, 1e-15);
  EXPECT_NEAR(v[1], 0.25, 1e-15);
  EXPECT_NEAR(v[2], 0.625, 1e-15);
}

TEST(Softmax, HugeLogitsDoNotOverflow) {
  // The book's overflow example [1010, 1000, 990]; exp(1010) is inf in float and double.
  Tensor y = softmax(Tensor::from_vector<float>({1010, 1000, 990}, {1, 3}));
  expect_near_all(y.to_vector<float>(), {9.99954600e-01f, 4.53978686e-05f, 2.06106005e-09f}, 1e-7f);
  // Magnitude 1e4, both signs: differences are exact, so the results are too.
  Tensor z =
      softmax(Tensor::from_vector<float>({1e4f, -1e4f, 1e4f, 1e4f, -1e4f, -1e4f + 1.0f}, {3, 2}));
  const std::vector<float> v = z.to_vector<float>();
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[2], 0.5f);
  EXPECT_EQ(v[3], 0.5f);
  EXPECT_NEAR(v[4], 1.0 / (1.0 + std::exp(1.0)), 1e-7);
  EXPECT_NEAR(v[5], std::exp(1.0) / (1.0 + std::exp(1.0)), 1e-7);
}

TEST(Softmax, RowsOfOneValueGiveExactlyOneOverC) {
  for (std::int64_t cols : {1, 2, 7, 10, 1000, 4097}) {
    for (float value : {0.0f, 5.5f, -1e4f, 1e4f, -3.0e38f}) {
      Tensor x = Tensor::full({3, cols}, value);
      for (float p : softmax(x).to_vector<float>())
        ASSERT_EQ(p, 1.0f / static_cast<float>(cols)) << cols << " columns of " << value;
      Tensor xd = Tensor::full({2, cols}, value, DType::Float64);
      for (double p : softmax(xd).to_vector<double>())
        ASSERT_EQ(p, 1.0 / static_cast<double>(cols)) << cols << " columns of " << value;
    }
  }
}

TEST(Softmax, NegativeInfinityEntriesGetProbabilityZero) {
  Tensor x = Tensor::from_vector<float>({-kInf, 0.0f, std::log(3.0f), -kInf}, {1, 4});
  expect_near_all(softmax(x).to_vector<float>(), {0.0f, 0.25f, 0.75f, 0.0f}, 1e-7f);
  EXPECT_EQ(softmax(x).to_vector<float>()[0], 0.0f);
  // One finite entry among -inf ones takes all the mass.
  Tensor one = Tensor::from_vector<float>({-kInf, -kInf, -7.0f}, {1, 3});
  EXPECT_EQ(softmax(one).to_vector<float>(), std::vector<float>({0.0f, 0.0f, 1.0f}));
}

TEST(Softmax, RowOfOnlyNegativeInfinityIsNaNAsInNumPy) {
  Tensor x = Tensor::from_vector<float>({-kInf, -kInf, 1.0f, 2.0f}, {2, 2});
  const std::vector<float> y = softmax(x).to_vector<float>();
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  EXPECT_NEAR(y[2] + y[3], 1.0f, 1e-7f);  // the other row is unaffected
}

TEST(Softmax, RowsSumToOneAndMatchTheDefinition) {
  Generator g(3);
  Tensor x = testing::random_logits(37, 53, g, 4.0, DType::Float64);
  const std::vector<double> in = x.to_vector<double>();
  const std::vector<double> y = softmax(x).to_vector<double>();
  for (std::int64_t r = 0; r < 37; ++r) {
    long double denominator = 0.0L, row_sum = 0.0L;
    for (std::int64_t c = 0; c < 53; ++c) denominator += std::exp((long double)in[r * 53 + c]);
    for (std::int64_t c = 0; c < 53; ++c) {
      const long double expected = std::exp((long double)in[r * 53 + c]) / denominator;
      EXPECT_NEAR(y[r * 53 + c], (double)expected, 1e-15 + 1e-13 * (double)expected);
      row_sum += y[r * 53 + c];
    }
    EXPECT_NEAR((double)row_sum, 1.0, 1e-14) << "row " << r;
  }
  Tensor xf = testing::random_logits(20, 1000, g, 10.0);
  const std::vector<float> yf = softmax(xf).to_vector<float>();
  for (std::int64_t r = 0; r < 20; ++r) {
    double row_sum = 0.0;
    for (std::int64_t c = 0; c < 1000; ++c) row_sum += yf[r * 1000 + c];
    EXPECT_NEAR(row_sum, 1.0, 1e-6) << "row " << r;
  }
}

TEST(Softmax, LastAxisOfHigherRankTensors) {
  Tensor x = Tensor::from_vector<float>({0, std::log(3.0f), 1, 1, 5, 5, 2, 2}, {2, 2, 2});
  Tensor y = softmax(x);
  EXPECT_EQ(y.shape(), x.shape());
  expect_near_all(y.to_vector<float>(), {0.25f, 0.75f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, 1e-7f);
}

TEST(Softmax, RejectsIntegerTensors) {
  EXPECT_THROW(softmax(Tensor::zeros({2, 3}, DType::Int32)), Error);
}

TEST(SoftmaxGpu, MatchesCpuOnShortAndLongRows) {
  DLFS_REQUIRE_GPU();
  // Warp-per-row (<= 1024 columns) and block-per-row kernels, across their boundary.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {
      {1, 1}, {4099, 10}, {777, 1000}, {300, 1024}, {300, 1025}, {64, 32768}, {3, 100003}};
  for (auto [rows, cols] : shapes) {
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols));
    Generator g(static_cast<std::uint64_t>(rows * cols));
    Tensor x = testing::random_logits(rows, cols, g, 5.0);
    EXPECT_TENSORS_CLOSE(softmax(x), softmax(x.to(Device::cuda())), 1e-5);
  }
}

TEST(SoftmaxGpu, EdgeCasesMatchCpuExactly) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t cols : {7, 2000}) {
    // Rows: all equal; huge of both signs; -inf among finite; all -inf (NaN on both).
    std::vector<float> v(static_cast<std::size_t>(4 * cols));
    for (std::int64_t c = 0; c < cols; ++c) {
      v[c] = 3.25f;
      v[cols + c] = c % 2 ? 1e4f : -1e4f;
      v[2 * cols + c] = c % 3 ? -kInf : static_cast<float>(c % 5);
      v[3 * cols + c] = -kInf;
    }
    Tensor x = Tensor::from_vector(v, {4, cols});
    const std::vector<float> cpu = softmax(x).to_vector<float>();
    const std::vector<float> gpu = softmax(x.to(Device::cuda())).to_vector<float>();
    for (std::int64_t c = 0; c < cols; ++c) {
      EXPECT_EQ(gpu[c], 1.0f / static_cast<float>(cols));
      EXPECT_NEAR(gpu[cols + c], cpu[cols + c], 1e-7f);
      EXPECT_NEAR(gpu[2 * cols + c], cpu[2 * cols + c], 1e-7f);
      if (c % 3) {
        EXPECT_EQ(gpu[2 * cols + c], 0.0f);
      }
      EXPECT_TRUE(std::isnan(gpu[3 * cols + c]));
    }
  }
}

TEST(SoftmaxGpu, ShortRowsShareAWarpWithoutMixing) {
  DLFS_REQUIRE_GPU();
  // Up to 1024 columns a row gets a group of 1, 2, 4, 8, 16 or 32 lanes (about 4 columns a
  // lane), so a warp holds several rows; 13 rows leave idle groups in the last warp. Special
  // rows sit among ordinary ones: a NaN or an all -inf row must not leak into the rows sharing
  // its warp.
  for (std::int64_t cols : {1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 31, 33, 64, 65, 127, 129, 1000}) {
    SCOPED_TRACE(std::to_string(cols) + " columns");
    const std::int64_t rows = 13;
    Generator g(static_cast<std::uint64_t>(cols));
    std::vector<float> v = testing::random_logits(rows, cols, g, 4.0).to_vector<float>();
    for (std::int64_t c = 0; c < cols; ++c) {
      v[3 * cols + c] = -kInf;                                           // all -inf: NaN
      if (c == cols / 2) v[5 * cols + c] = std::nanf("");                // a NaN: NaN row
      if (c % 2) v[6 * cols + c] = -kInf;                                // -inf among finite
      v[8 * cols + c] = (c % 3 ? 1e4f : -1e4f) + static_cast<float>(c);  // huge
    }
    Tensor x = Tensor::from_vector(v, {rows, cols});
    const std::vector<float> cpu = softmax(x).to_vector<float>();
    const std::vector<float> gpu = softmax(x.to(Device::cuda())).to_vector<float>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < cols; ++c) {
        const std::size_t i = static_cast<std::size_t>(r * cols + c);
        if (r == 3 || r == 5) {
          EXPECT_TRUE(std::isnan(gpu[i])) << "row " << r << " col " << c;
        } else {
          ASSERT_FALSE(std::isnan(gpu[i])) << "row " << r << " col " << c;
          EXPECT_NEAR(gpu[i], cpu[i], 1e-6f + 2e-6f * cpu[i]) << "row " << r << " col " << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dlfs::kernels
