// The float32 CPU softmax computes exp with kernels/cpu/fast_exp.hpp (vectorised) instead of in
// double. These tests hold fast_exp_nonpositive to < 1 ulp of std::exp (1.5 ulp with a tail),
// check its special values, compare float softmax and softmax-with-loss against a long double
// reference, and check that the results are bit-identical for any thread count (rows per
// thread, losses in fixed chunks).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dlfs/kernels/cpu/fast_exp.hpp"
#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/softmax.hpp"
#include "dlfs/kernels/softmax_with_loss.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::kernels {
namespace {

double ulps(float actual, double expected) {
  const float rounded = static_cast<float>(expected);
  const double ulp = std::nextafter(rounded, std::numeric_limits<float>::infinity()) - rounded;
  return std::fabs(actual - expected) / ulp;
}

TEST(FastExpNonpositive, WithinOneAndAHalfUlpOfExpOfDPlusTail) {
  double worst = 0.0;
  float worst_at = 0.0f;
  // d over [-87.3, 0] with tails of either sign up to half an ulp of d (what TwoSum leaves),
  // checked against exp(d + tail) in double.
  constexpr int kPoints = 1000000;
  for (int i = 0; i <= kPoints; ++i) {
    const float d = static_cast<float>(-87.3 * i / kPoints);
    const float half_ulp = (std::nextafter(d, 0.0f) - d) * 0.5f;
    const float tail = (i % 3 - 1) * half_ulp;
    const double exact = std::exp(static_cast<double>(d) + static_cast<double>(tail));
    const double error = ulps(cpu::fast_exp_nonpositive(d, tail), exact);
    if (error > worst) {
      worst = error;
      worst_at = d;
    }
  }
  EXPECT_LT(worst, 1.5) << "at d = " << worst_at;
}

TEST(FastExpNonpositive, WithinOneUlpOfStdExpWithoutATail) {
  double worst = 0.0;
  float worst_at = 0.0f;
  // Two million evenly spaced points of [-87.3, 0], and every float of [-1, 0] / 2^12 apart.
  auto check = [&](float d) {
    const double error = ulps(cpu::fast_exp_nonpositive(d, 0.0f), std::exp(static_cast<double>(d)));
    if (error > worst) {
      worst = error;
      worst_at = d;
    }
  };
  constexpr int kPoints = 2000000;
  for (int i = 0; i <= kPoints; ++i) check(static_cast<float>(-87.3 * i / kPoints));
  for (int i = -4096; i <= 0; ++i) check(static_cast<float>(i) / 4096.0f);
  EXPECT_LT(worst, 1.0) << "at d = " << worst_at;
}

TEST(FastExpNonpositive, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(cpu::fast_exp_nonpositive(0.0f, 0.0f), 1.0f);
  EXPECT_EQ(cpu::fast_exp_nonpositive(-0.0f, 0.0f), 1.0f);
  EXPECT_EQ(cpu::fast_exp_nonpositive(-inf, nan), 0.0f);  // x = -inf: TwoSum's tail is NaN
  EXPECT_EQ(cpu::fast_exp_nonpositive(-100.0f, 0.0f), 0.0f);
  EXPECT_EQ(cpu::fast_exp_nonpositive(-1e30f, 0.0f), 0.0f);
  EXPECT_TRUE(std::isnan(cpu::fast_exp_nonpositive(nan, 0.0f)));
  EXPECT_TRUE(std::isnan(cpu::fast_exp_nonpositive(nan, nan)));
  EXPECT_EQ(cpu::fast_exp_nonpositive(-1.0f, 0.0f), static_cast<float>(std::exp(-1.0)));
}

std::vector<float> random_row_major(std::int64_t rows, std::int64_t cols, double scale,
                                    std::uint64_t seed) {
  Generator gen(seed);
  return Tensor::empty({rows, cols}).uniform_(gen, -scale, scale).to_vector<float>();
}

TEST(SoftmaxFast, FloatRowsMatchALongDoubleReference) {
  for (std::int64_t cols : {1, 3, 10, 17, 1000}) {
    const std::int64_t rows = 9;
    const std::vector<float> x = random_row_major(rows, cols, 20.0, 3 + cols);
    std::vector<float> y(x.size());
    cpu::softmax_forward(x.data(), y.data(), rows, cols);
    for (std::int64_t r = 0; r < rows; ++r) {
      long double max = -INFINITY, sum = 0;
      for (std::int64_t c = 0; c < cols; ++c) max = std::max<long double>(max, x[r * cols + c]);
      for (std::int64_t c = 0; c < cols; ++c) sum += std::exp((long double)x[r * cols + c] - max);
      for (std::int64_t c = 0; c < cols; ++c) {
        const double expected =
            static_cast<double>(std::exp((long double)x[r * cols + c] - max) / sum);
        // fast_exp (< 1 ulp of the exact x - max, whose float rounding error is applied as a
        // correction), the sum rounded to float once, one division: <= 4 * 2^-24 relative;
        // without the correction this fails (|x - max| up to 40 costs up to 40 ulp).
        ASSERT_LE(std::fabs(y[r * cols + c] - expected), 6 * 0x1p-24 * expected + 1e-40)
            << "row " << r << " column " << c << " of " << cols;
      }
    }
  }
}

TEST(SoftmaxFast, NaNLogitMakesItsRowNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1.0f, nan, 2.0f, 1.0f, 2.0f, 3.0f};
  std::vector<float> y(6);
  cpu::softmax_forward(x.data(), y.data(), 2, 3);
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(std::isnan(y[c])) << c;
  for (int c = 3; c < 6; ++c) EXPECT_FALSE(std::isnan(y[c])) << c;
}

TEST(SoftmaxFast, BitIdenticalForAnyThreadCount) {
  // 2048 x 64 > 2^16 elements: the OpenMP paths run.
  const std::int64_t rows = 2048, cols = 64;
  const std::vector<float> x = random_row_major(rows, cols, 8.0, 42);
  std::vector<std::int32_t> labels(rows);
  for (std::int64_t r = 0; r < rows; ++r) labels[r] = static_cast<std::int32_t>((r * 7) % cols);
  const int threads = omp_get_max_threads();
  std::vector<float> first_y, first_probs;
  float first_loss = 0.0f;
  for (int t : {1, 2, 3, 1}) {
    omp_set_num_threads(t);
    std::vector<float> y(x.size()), probs(x.size());
    float loss = 0.0f;
    cpu::softmax_forward(x.data(), y.data(), rows, cols);
    cpu::softmax_with_loss_forward(x.data(), labels.data(), probs.data(), &loss, rows, cols);
    if (first_y.empty()) {
      first_y = y;
      first_probs = probs;
      first_loss = loss;
      EXPECT_EQ(std::memcmp(y.data(), probs.data(), y.size() * sizeof(float)), 0);
      continue;
    }
    EXPECT_EQ(std::memcmp(y.data(), first_y.data(), y.size() * sizeof(float)), 0) << t;
    EXPECT_EQ(std::memcmp(probs.data(), first_probs.data(), y.size() * sizeof(float)), 0) << t;
    EXPECT_EQ(std::memcmp(&loss, &first_loss, sizeof loss), 0) << t << " threads";
  }
  omp_set_num_threads(threads);
  // And the loss is the mean of -log p[label] (long double reference).
  long double total = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    long double max = -INFINITY, sum = 0;
    for (std::int64_t c = 0; c < cols; ++c) max = std::max<long double>(max, x[r * cols + c]);
    for (std::int64_t c = 0; c < cols; ++c) sum += std::exp((long double)x[r * cols + c] - max);
    total += std::log(sum) - ((long double)x[r * cols + labels[r]] - max);
  }
  EXPECT_NEAR(first_loss, static_cast<double>(total / rows), 1e-6);
}

TEST(CrossEntropyFast, ChunkedSumsAreBitIdenticalForAnyThreadCountAndCorrect) {
  // 4096 x 32 > 2^16 elements: the rows are summed in parallel chunks.
  const std::int64_t rows = 4096, cols = 32;
  std::vector<float> p(rows * cols), targets(rows * cols, 0.0f);
  std::vector<std::int32_t> labels(rows);
  cpu::softmax_forward(random_row_major(rows, cols, 3.0, 5).data(), p.data(), rows, cols);
  long double expected = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    labels[r] = static_cast<std::int32_t>((r * 5) % cols);
    targets[r * cols + labels[r]] = 1.0f;
    expected -= std::log((long double)p[r * cols + labels[r]] + kCrossEntropyDelta);
  }
  expected /= rows;
  const int threads = omp_get_max_threads();
  float first_labels = 0.0f, first_targets = 0.0f;
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    float from_labels = 0.0f, from_targets = 0.0f;
    cpu::cross_entropy(p.data(), labels.data(), &from_labels, rows, cols);
    cpu::cross_entropy(p.data(), targets.data(), &from_targets, rows, cols);
    EXPECT_NEAR(from_labels, static_cast<double>(expected), 1e-6) << t;
    EXPECT_NEAR(from_targets, static_cast<double>(expected), 1e-6) << t;
    if (t == 1) {
      first_labels = from_labels;
      first_targets = from_targets;
    }
    EXPECT_EQ(std::memcmp(&from_labels, &first_labels, sizeof(float)), 0) << t << " threads";
    EXPECT_EQ(std::memcmp(&from_targets, &first_targets, sizeof(float)), 0) << t << " threads";
  }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dlfs::kernels
