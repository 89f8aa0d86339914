// Batch normalization kernels: a hand-computed case, a naive reference (the book's backward
// through mean and variance, written out step by step), running statistics over two batches,
// inference with running statistics, errors, and CPU/GPU equivalence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/relu.hpp"
#include "support/batch_norm_close.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

constexpr double kEps = 1e-5;
constexpr double kMomentum = 0.1;

// Per-channel state of one BatchNorm, as host tensors of one dtype.
struct State {
  Tensor gamma, beta, running_mean, running_var, batches;
  State(std::int64_t channels, DType dtype, const Device& device = Device::cpu())
      : gamma(Tensor::full({channels}, 1.0, dtype, device)),
        beta(Tensor::zeros({channels}, dtype, device)),
        running_mean(Tensor::zeros({channels}, dtype, device)),
        running_var(Tensor::full({channels}, 1.0, dtype, device)),
        batches(Tensor::zeros(Shape{}, DType::Int64, device)) {}
};

TEST(BatchNorm, HandComputedTwoValues) {
  // One feature, batch {1, 3}: mean 2, biased var 1, unbiased var 2.
  Tensor x = Tensor::from_vector<double>({1, 3}, {2, 1});
  State st(1, DType::Float64);
  BatchNormSaved saved;
  Tensor y = batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var,
                                      &st.batches, kMomentum, kEps, &saved);
  const double invstd = 1 / std::sqrt(1 + kEps);
  EXPECT_DOUBLE_EQ(y.to_vector<double>()[0], -invstd);
  EXPECT_DOUBLE_EQ(y.to_vector<double>()[1], invstd);
  EXPECT_DOUBLE_EQ(saved.mean.to_vector<double>()[0], 2.0);
  EXPECT_DOUBLE_EQ(saved.invstd.to_vector<double>()[0], invstd);
  EXPECT_DOUBLE_EQ(st.running_mean.to_vector<double>()[0], 0.2);           // 0.9 * 0 + 0.1 * 2
  EXPECT_DOUBLE_EQ(st.running_var.to_vector<double>()[0], 0.9 + 0.1 * 2);  // unbiased
  EXPECT_EQ(st.batches.to_vector<std::int64_t>()[0], 1);

  // dy = {1, 0}: dbeta = 1, dgamma = -invstd; dx = invstd * (dy - 1/2 - x_hat * dgamma / 2).
  Tensor dy = Tensor::from_vector<double>({1, 0}, {2, 1});
  BatchNormGrads g = batch_norm_backward(dy, x, st.gamma, saved);
  EXPECT_DOUBLE_EQ(g.dbeta.to_vector<double>()[0], 1.0);
  EXPECT_DOUBLE_EQ(g.dgamma.to_vector<double>()[0], -invstd);
  const double dx0 = invstd * (1 - 0.5 - (-invstd) * (-invstd) / 2);
  EXPECT_NEAR(g.dx.to_vector<double>()[0], dx0, 1e-15);
  EXPECT_NEAR(g.dx.to_vector<double>()[1], -dx0, 1e-15);  // dx sums to zero
}

// The reference works on x[n][c][s] with separate loops for every quantity.
struct NaiveBatchNorm {
  std::int64_t N, C, S;
  std::vector<double> mean, var, y;
  NaiveBatchNorm(const std::vector<double>& x, const Shape& shape, const std::vector<double>& gamma,
                 const std::vector<double>& beta)
      : N(shape[0]), C(shape[1]), S(shape.numel() / (shape[0] * shape[1])) {
    mean.assign(static_cast<std::size_t>(C), 0.0);
    var.assign(static_cast<std::size_t>(C), 0.0);
    y.assign(x.size(), 0.0);
    const double M = static_cast<double>(N * S);
    for (std::int64_t c = 0; c < C; ++c) {
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) mean[c] += x[at(n, c, s)] / M;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) var[c] += std::pow(x[at(n, c, s)] - mean[c], 2) / M;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s)
          y[at(n, c, s)] =
              gamma[c] * (x[at(n, c, s)] - mean[c]) / std::sqrt(var[c] + kEps) + beta[c];
    }
  }
  std::size_t at(std::int64_t n, std::int64_t c, std::int64_t s) const {
    return static_cast<std::size_t>((n * C + c) * S + s);
  }
  double unbiased_var(std::int64_t c) const { return var[c] * N * S / (N * S - 1.0); }

  // The book's BatchNormalization.backward: through x_hat, the standard deviation and the mean.
  void backward(const std::vector<double>& x, const std::vector<double>& dy,
                const std::vector<double>& gamma, std::vector<double>* dx,
                std::vector<double>* dgamma, std::vector<double>* dbeta) const {
    dx->assign(x.size(), 0.0);
    dgamma->assign(static_cast<std::size_t>(C), 0.0);
    dbeta->assign(static_cast<std::size_t>(C), 0.0);
    const double M = static_cast<double>(N * S);
    for (std::int64_t c = 0; c < C; ++c) {
      const double std_dev = std::sqrt(var[c] + kEps);
      double dstd = 0, dmu = 0;
      std::vector<double> dxc(x.size(), 0.0);
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::size_t i = at(n, c, s);
          const double xc = x[i] - mean[c];
          (*dbeta)[c] += dy[i];
          (*dgamma)[c] += dy[i] * xc / std_dev;
          const double dxn = gamma[c] * dy[i];
          dxc[i] = dxn / std_dev;
          dstd -= dxn * xc / (std_dev * std_dev);
        }
      const double dvar = 0.5 * dstd / std_dev;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::size_t i = at(n, c, s);
          dxc[i] += (2.0 / M) * (x[i] - mean[c]) * dvar;
          dmu += dxc[i];
        }
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::size_t i = at(n, c, s);
          (*dx)[i] = dxc[i] - dmu / M;
        }
    }
  }
};

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
}

Tensor random_double(const Shape& shape, std::uint64_t seed, double mean = 0, double stddev = 1) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape, DType::Float64);
  t.normal_(g, mean, stddev);
  return t;
}

void check_against_reference(const Shape& shape) {
  SCOPED_TRACE(shape.str());
  const std::int64_t C = shape[1];
  State st(C, DType::Float64);
  st.gamma = random_double({C}, 1, 1.0, 0.5);
  st.beta = random_double({C}, 2);
  Tensor x = random_double(shape, 3, 0.7, 2.0);
  Tensor dy = random_double(shape, 4);
  BatchNormSaved saved;
  Tensor y = batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var,
                                      &st.batches, kMomentum, kEps, &saved);
  const std::vector<double> xv = x.to_vector<double>(), gv = st.gamma.to_vector<double>();
  NaiveBatchNorm ref(xv, shape, gv, st.beta.to_vector<double>());
  expect_near(y.to_vector<double>(), ref.y, 1e-12);
  expect_near(saved.mean.to_vector<double>(), ref.mean, 1e-12);
  std::vector<double> invstd;
  for (double v : ref.var) invstd.push_back(1 / std::sqrt(v + kEps));
  expect_near(saved.invstd.to_vector<double>(), invstd, 1e-12);

  BatchNormGrads g = batch_norm_backward(dy, x, st.gamma, saved);
  std::vector<double> dx, dgamma, dbeta;
  ref.backward(xv, dy.to_vector<double>(), gv, &dx, &dgamma, &dbeta);
  expect_near(g.dx.to_vector<double>(), dx, 1e-10);
  expect_near(g.dgamma.to_vector<double>(), dgamma, 1e-12);
  expect_near(g.dbeta.to_vector<double>(), dbeta, 1e-12);
}

TEST(BatchNorm, PerFeatureMatchesNaiveReference) {
  check_against_reference({6, 5});
}
TEST(BatchNorm, PerChannelMatchesNaiveReference) {
  check_against_reference({3, 5, 7, 9});
}
TEST(BatchNorm, PerChannelBatchOneMatchesNaiveReference) {
  check_against_reference({1, 4, 3, 5});
}

TEST(BatchNorm, RunningStatisticsAfterOneAndTwoBatches) {
  const Shape shape{4, 3, 2, 5};
  State st(3, DType::Float64);
  const double momentum = 0.25;  // not the default, so the formula is exercised
  std::vector<double> expected_mean(3, 0.0), expected_var(3, 1.0);
  for (int batch = 1; batch <= 2; ++batch) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Tensor x = random_double(shape, 20 + batch, batch * 1.5, batch);
    BatchNormSaved saved;
    batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var, &st.batches,
                             momentum, kEps, &saved);
    NaiveBatchNorm ref(x.to_vector<double>(), shape, std::vector<double>(3, 1.0),
                       std::vector<double>(3, 0.0));
    for (std::size_t c = 0; c < 3; ++c) {
      expected_mean[c] = (1 - momentum) * expected_mean[c] + momentum * ref.mean[c];
      expected_var[c] = (1 - momentum) * expected_var[c] + momentum * ref.unbiased_var(c);
    }
    expect_near(st.running_mean.to_vector<double>(), expected_mean, 1e-12);
    expect_near(st.running_var.to_vector<double>(), expected_var, 1e-12);
    EXPECT_EQ(st.batches.to_vector<std::int64_t>()[0], batch);
  }
}

TEST(BatchNorm, InferenceUsesRunningStatistics) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor gamma = Tensor::from_vector<double>({2, -1}, {2});
  Tensor beta = Tensor::from_vector<double>({0.5, 1}, {2});
  Tensor running_mean = Tensor::from_vector<double>({1, 10}, {2});
  Tensor running_var = Tensor::from_vector<double>({4, 0.25}, {2});
  Tensor y = batch_norm_inference_forward(x, gamma, beta, running_mean, running_var, kEps);
  std::vector<double> expected;
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 2; ++c) {
      const double rm = c == 0 ? 1 : 10, rv = c == 0 ? 4 : 0.25, g = c == 0 ? 2 : -1;
      expected.push_back(g * (x.to_vector<double>()[n * 2 + c] - rm) / std::sqrt(rv + kEps) +
                         (c == 0 ? 0.5 : 1));
    }
  expect_near(y.to_vector<double>(), expected, 1e-14);
  // Batch of one is fine in inference, and the running statistics are left alone.
  Tensor one = Tensor::from_vector<double>({3, 4}, {1, 2});
  EXPECT_EQ(batch_norm_inference_forward(one, gamma, beta, running_mean, running_var, kEps).shape(),
            Shape({1, 2}));
  EXPECT_EQ(running_mean.to_vector<double>(), std::vector<double>({1, 10}));
  EXPECT_EQ(running_var.to_vector<double>(), std::vector<double>({4, 0.25}));
}

TEST(BatchNorm, Float32MatchesFloat64) {
  const Shape shape{4, 3, 5, 5};
  Tensor x = random_double(shape, 30, 0.5, 2.0);
  Tensor dy = random_double(shape, 31);
  State s64(3, DType::Float64), s32(3, DType::Float32);
  BatchNormSaved saved64, saved32;
  Tensor y64 = batch_norm_train_forward(x, s64.gamma, s64.beta, s64.running_mean, s64.running_var,
                                        nullptr, kMomentum, kEps, &saved64);
  Tensor x32 = x.to(DType::Float32);
  Tensor y32 = batch_norm_train_forward(x32, s32.gamma, s32.beta, s32.running_mean, s32.running_var,
                                        nullptr, kMomentum, kEps, &saved32);
  // Float32 rounding of O(1) terms; floors as in support/batch_norm_close.hpp.
  using testing::batch_norm_close;
  EXPECT_TRUE(batch_norm_close(y64.to(DType::Float32), y32, 1e-5, 1.0));
  BatchNormGrads g64 = batch_norm_backward(dy, x, s64.gamma, saved64);
  BatchNormGrads g32 = batch_norm_backward(dy.to(DType::Float32), x32, s32.gamma, saved32);
  EXPECT_TRUE(batch_norm_close(g64.dx.to(DType::Float32), g32.dx, 1e-5, 1.0));
  EXPECT_TRUE(batch_norm_close(g64.dgamma.to(DType::Float32), g32.dgamma, 1e-5, 100.0));
  EXPECT_TRUE(batch_norm_close(g64.dbeta.to(DType::Float32), g32.dbeta, 1e-5, 100.0));
}

// The float32 CPU kernels sum each channel in eight double lanes (element k of each image's
// plane into lane k % 8, the lanes added in order at the end; kernels/cpu/batch_norm.cpp), an
// order fixed by the shape. Computed here one value at a time in that order, every output has
// the same bits: spatial sizes with and without a remainder, under eight, and per feature. With
// +-1e20 in two lanes, the other lanes' values vanish or survive by the order of the additions,
// so a lane taken out of turn (tried on a vectorised version of the sums) changes the mean.
TEST(BatchNorm, Float32IsTheEightLaneSumsBitForBit) {
  for (const Shape& shape :
       {Shape{3, 5, 13}, Shape{2, 4, 28, 28}, Shape{7, 6}, Shape{2, 3, 4}, Shape{2, 3, 21}}) {
    SCOPED_TRACE(shape.str());
    Tensor x = testing::random_normal(shape, 41, 2.0);
    const Tensor dy = testing::random_normal(shape, 42);
    const std::int64_t batch = shape[0], channels = shape[1];
    const std::int64_t spatial = shape.numel() / (batch * channels);
    if (spatial == 21)
      for (std::int64_t c = 0; c < channels; ++c) {
        x.data<float>()[c * spatial + 1] = 1e20f;    // image 0, lane 1
        x.data<float>()[c * spatial + 20] = -1e20f;  // image 0, lane 4, after the vectors
      }
    State st(channels, DType::Float32);
    st.gamma = testing::random_normal({channels}, 43);
    st.beta = testing::random_normal({channels}, 44);
    BatchNormSaved saved;
    const Tensor y = batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var,
                                              nullptr, kMomentum, kEps, &saved);
    const BatchNormGrads g = batch_norm_backward(dy, x, st.gamma, saved);

    const std::vector<float> xs = x.to_vector<float>(), dys = dy.to_vector<float>();
    const std::vector<float> gamma = st.gamma.to_vector<float>(), beta = st.beta.to_vector<float>();
    const auto lane_sum = [&](std::int64_t c, const auto& term) {
      double lanes[8] = {};
      for (std::int64_t n = 0; n < batch; ++n)
        for (std::int64_t k = 0; k < spatial; ++k)
          lanes[k % 8] += term((n * channels + c) * spatial + k);
      double total = 0.0;
      for (double lane : lanes) total += lane;
      return total;
    };
    const double count = static_cast<double>(batch * spatial);
    std::vector<float> y_expected(xs.size()), dx_expected(xs.size());
    for (std::int64_t c = 0; c < channels; ++c) {
      const double mean = lane_sum(c, [&](std::int64_t i) { return double{xs[i]}; }) / count;
      const double squares = lane_sum(c, [&](std::int64_t i) {
        const double d = xs[i] - mean;
        return d * d;
      });
      const float mean_f = static_cast<float>(mean);
      const float invstd = static_cast<float>(1.0 / std::sqrt(squares / count + kEps));
      EXPECT_EQ(saved.mean.to_vector<float>()[c], mean_f) << "channel " << c;
      EXPECT_EQ(saved.invstd.to_vector<float>()[c], invstd) << "channel " << c;
      EXPECT_EQ(st.running_mean.to_vector<float>()[c], static_cast<float>(kMomentum * mean));
      const double sum_dy = lane_sum(c, [&](std::int64_t i) { return double{dys[i]}; });
      const double sum_dy_xhat = lane_sum(c, [&](std::int64_t i) {
        return static_cast<double>(dys[i]) * static_cast<double>((xs[i] - mean_f) * invstd);
      });
      const float db = static_cast<float>(sum_dy), dg = static_cast<float>(sum_dy_xhat);
      EXPECT_EQ(g.dbeta.to_vector<float>()[c], db) << "channel " << c;
      EXPECT_EQ(g.dgamma.to_vector<float>()[c], dg) << "channel " << c;
      const float m = static_cast<float>(count), scale = gamma[c] * invstd;
      for (std::int64_t n = 0; n < batch; ++n)
        for (std::int64_t k = 0; k < spatial; ++k) {
          const std::int64_t i = (n * channels + c) * spatial + k;
          y_expected[i] = (xs[i] - mean_f) * invstd * gamma[c] + beta[c];
          const float xhat = (xs[i] - mean_f) * invstd;
          dx_expected[i] = scale * (dys[i] - db / m - xhat * (dg / m));
        }
    }
    EXPECT_EQ(y.to_vector<float>(), y_expected);
    EXPECT_EQ(g.dx.to_vector<float>(), dx_expected);
  }
}

// A ReLU in the same passes (what a graph's BatchNorm -> ReLU runs in training): the bits of
// the BatchNorm and then the ReLU's kernels, forward and backward, in float32 and float64, with
// and without a remainder after the vectors, and outputs of -0, +0 and NaN for the ReLU.
TEST(BatchNorm, TrainingWithAReluIsTheBatchNormThenTheReluBitForBit) {
  for (const DType dtype : {DType::Float32, DType::Float64})
    for (const Shape& shape : {Shape{3, 5, 13}, Shape{4, 3, 8, 8}, Shape{9, 6}, Shape{2, 3, 21}}) {
      SCOPED_TRACE(shape.str() + (dtype == DType::Float32 ? " float32" : " float64"));
      const std::int64_t channels = shape[1];
      const std::int64_t plane = shape.numel() / (shape[0] * channels);
      std::vector<double> xs =
          testing::random_normal(shape, 51, 2.0).to(DType::Float64).to_vector<double>();
      xs[plane + 3] = std::nan("");  // channel 1: every output NaN, which the ReLU clamps
      const Tensor x = Tensor::from_vector<double>(xs, shape).to(dtype);
      const Tensor dy = testing::random_normal(shape, 52).to(dtype);
      // Channel 0 maps every value to +-0 (gamma 0, beta -0): the ReLU's x <= 0 side.
      std::vector<double> gamma =
          testing::random_normal({channels}, 53).to(DType::Float64).to_vector<double>();
      std::vector<double> beta =
          testing::random_normal({channels}, 54).to(DType::Float64).to_vector<double>();
      gamma[0] = 0.0;
      beta[0] = -0.0;
      State plain(channels, dtype), fused(channels, dtype);
      for (State* st : {&plain, &fused}) {
        st->gamma = Tensor::from_vector<double>(gamma, {channels}).to(dtype);
        st->beta = Tensor::from_vector<double>(beta, {channels}).to(dtype);
      }
      BatchNormSaved plain_saved, fused_saved;
      Tensor mask;
      const Tensor normalized = batch_norm_train_forward(
          x, plain.gamma, plain.beta, plain.running_mean, plain.running_var, &plain.batches,
          kMomentum, kEps, &plain_saved);
      const Tensor expected_y = relu_forward(normalized, &mask);
      const BatchNormGrads expected =
          batch_norm_backward(relu_backward(dy, mask), x, plain.gamma, plain_saved);

      const Tensor y = batch_norm_train_forward(x, fused.gamma, fused.beta, fused.running_mean,
                                                fused.running_var, &fused.batches, kMomentum, kEps,
                                                &fused_saved, /*relu=*/true);
      const BatchNormGrads g = batch_norm_backward(dy, x, fused.gamma, fused_saved, &y);
      const auto same_bits = [](const Tensor& a, const Tensor& b) {
        return a.shape() == b.shape() && a.dtype() == b.dtype() &&
               std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
      };
      EXPECT_TRUE(same_bits(expected_y, y));
      EXPECT_TRUE(same_bits(plain.running_mean, fused.running_mean));
      EXPECT_TRUE(same_bits(plain.running_var, fused.running_var));
      EXPECT_TRUE(same_bits(expected.dx, g.dx));
      EXPECT_TRUE(same_bits(expected.dgamma, g.dgamma));
      EXPECT_TRUE(same_bits(expected.dbeta, g.dbeta));
      // The mask mattered: about half the values were clamped, and their dy did not count.
      const BatchNormGrads unmasked = batch_norm_backward(dy, x, fused.gamma, fused_saved);
      EXPECT_FALSE(same_bits(unmasked.dbeta, g.dbeta));
    }
}

TEST(BatchNorm, ReluInTheSamePassRejectsAMismatchedOutput) {
  State st(3, DType::Float32);
  BatchNormSaved saved;
  const Tensor x = testing::random_normal({4, 3}, 55);
  const Tensor y = batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var,
                                            nullptr, kMomentum, kEps, &saved, true);
  const Tensor other = Tensor::zeros({4, 3}, DType::Float64);
  EXPECT_THROW(batch_norm_backward(Tensor::zeros({4, 3}), x, st.gamma, saved, &other), Error);
  const Tensor short_one = Tensor::zeros({2, 3});
  EXPECT_THROW(batch_norm_backward(Tensor::zeros({4, 3}), x, st.gamma, saved, &short_one), Error);
  EXPECT_NO_THROW(batch_norm_backward(Tensor::zeros({4, 3}), x, st.gamma, saved, &y));
}

TEST(BatchNorm, RejectsBadShapes) {
  State st(3, DType::Float32);
  BatchNormSaved saved;
  // One value per channel: no variance to estimate.
  EXPECT_THROW(batch_norm_train_forward(Tensor::zeros({1, 3}), st.gamma, st.beta, st.running_mean,
                                        st.running_var, &st.batches, kMomentum, kEps, &saved),
               Error);
  // Four channels against three-channel parameters.
  EXPECT_THROW(
      batch_norm_train_forward(Tensor::zeros({2, 4, 2, 2}), st.gamma, st.beta, st.running_mean,
                               st.running_var, &st.batches, kMomentum, kEps, &saved),
      Error);
  EXPECT_THROW(batch_norm_inference_forward(Tensor::zeros({5}), st.gamma, st.beta, st.running_mean,
                                            st.running_var, kEps),
               Error);
  // Parameters of another dtype.
  EXPECT_THROW(batch_norm_inference_forward(Tensor::zeros({2, 3}, DType::Float64), st.gamma,
                                            st.beta, st.running_mean, st.running_var, kEps),
               Error);
  Tensor x = Tensor::zeros({2, 3});
  batch_norm_train_forward(x, st.gamma, st.beta, st.running_mean, st.running_var, &st.batches,
                           kMomentum, kEps, &saved);
  EXPECT_THROW(batch_norm_backward(Tensor::zeros({2, 4}), x, st.gamma, saved), Error);
  EXPECT_EQ(st.batches.to_vector<std::int64_t>()[0], 1);  // failed calls counted nothing
}

// ---- CPU/GPU equivalence -------------------------------------------------------------------

// Tolerances and floors: see support/batch_norm_close.hpp.
constexpr double kGpuTolerance = 1e-5;

void expect_batch_norm_equivalent(const Shape& shape, double mean = 0.5, double stddev = 2.0) {
  SCOPED_TRACE(shape.str() + " values N(" + std::to_string(mean) + ", " + std::to_string(stddev) +
               "^2)");
  const std::int64_t C = shape[1];
  Generator g(40);
  Tensor x = Tensor::empty(shape);
  x.normal_(g, mean, stddev);
  Tensor dy = Tensor::empty(shape);
  dy.normal_(g, 0.3, 1.0);
  State cpu(C, DType::Float32), gpu(C, DType::Float32, Device::cuda());
  cpu.gamma.normal_(g, 1.0, 0.5);
  cpu.beta.normal_(g);
  gpu.gamma.copy_from(cpu.gamma);
  gpu.beta.copy_from(cpu.beta);

  for (int step = 0; step < 2; ++step) {  // two batches: running statistics accumulate
    BatchNormSaved sc, sg;
    Tensor xd = x.to(Device::cuda());
    Tensor yc = batch_norm_train_forward(x, cpu.gamma, cpu.beta, cpu.running_mean, cpu.running_var,
                                         &cpu.batches, kMomentum, kEps, &sc);
    Tensor yg = batch_norm_train_forward(xd, gpu.gamma, gpu.beta, gpu.running_mean, gpu.running_var,
                                         &gpu.batches, kMomentum, kEps, &sg);
    using testing::batch_norm_close;
    const double M = static_cast<double>(shape[0] * (shape.numel() / (shape[0] * C)));
    EXPECT_TRUE(batch_norm_close(yc, yg, kGpuTolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(sc.mean, sg.mean, kGpuTolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(sc.invstd, sg.invstd, kGpuTolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(cpu.running_mean, gpu.running_mean, kGpuTolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(cpu.running_var, gpu.running_var, kGpuTolerance, 1.0));
    EXPECT_EQ(gpu.batches.to_vector<std::int64_t>()[0], step + 1);

    BatchNormGrads gc = batch_norm_backward(dy, x, cpu.gamma, sc);
    BatchNormGrads gg = batch_norm_backward(dy.to(Device::cuda()), xd, gpu.gamma, sg);
    EXPECT_TRUE(batch_norm_close(gc.dx, gg.dx, kGpuTolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(gc.dgamma, gg.dgamma, kGpuTolerance, M));
    EXPECT_TRUE(batch_norm_close(gc.dbeta, gg.dbeta, kGpuTolerance, M));
  }
  // Inference is elementwise over the (matching) running statistics.
  EXPECT_TRUE(testing::batch_norm_close(
      batch_norm_inference_forward(x, cpu.gamma, cpu.beta, cpu.running_mean, cpu.running_var, kEps),
      batch_norm_inference_forward(x.to(Device::cuda()), gpu.gamma, gpu.beta, gpu.running_mean,
                                   gpu.running_var, kEps),
      kGpuTolerance, 1.0));
}

TEST(BatchNormGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{2, 1}, Shape{7, 5}, Shape{3, 5, 7, 9}, Shape{1, 3, 4, 5},
                             Shape{2, 3, 1, 1}, Shape{5, 6, 3}})
    expect_batch_norm_equivalent(shape);
}

TEST(BatchNormGpu, MatchesCpuPerFeatureLarge) {
  DLFS_REQUIRE_GPU();
  expect_batch_norm_equivalent({512, 4096});
}

TEST(BatchNormGpu, MatchesCpuPerChannelLarge) {
  DLFS_REQUIRE_GPU();
  expect_batch_norm_equivalent({64, 256, 56, 56});
}

TEST(BatchNormGpu, ChannelsSplitOverSeveralBlocksMatchCpu) {
  DLFS_REQUIRE_GPU();
  // kernels/channel_split.hpp cuts a channel of M values into runs, one block each: 3 runs of
  // 5211 values (the last 5209) whose ends fall inside a 77-value plane; 44 runs of 4105 (the
  // last 4085) for a single channel; 2 runs a feature for [N, F] (4097 and 4096). (Many channels
  // of several runs: MatchesCpuPerChannelLarge.) A mean far from 0 next to a small spread checks
  // that merging the runs' (mean, M2) stays as stable as two passes over the channel.
  EXPECT_EQ(channel_split(3, 203 * 77).splits, 3);
  EXPECT_EQ(channel_split(1, 2 * 300 * 301).splits, 44);
  EXPECT_EQ(channel_split(2, 8193).splits, 2);
  for (const Shape& shape : {Shape{203, 3, 7, 11}, Shape{2, 1, 300, 301}, Shape{8193, 2}})
    expect_batch_norm_equivalent(shape);
  expect_batch_norm_equivalent({203, 3, 7, 11}, 300.0, 0.05);
  expect_batch_norm_equivalent({2, 1, 300, 301}, -40.0, 0.01);
}

}  // namespace
}  // namespace dlfs::kernels

namespace dlfs::kernels {
namespace {

// dx from sums over a larger batch (synchronised BatchNorm) is backward's dx when the sums and
// count are this batch's own; with another batch's sums and count it is not.
TEST(BatchNormBackwardInput, WithItsOwnSumsItIsBackwardsDx) {
  for (const Shape& shape : {Shape{6, 4}, Shape{3, 5, 7, 2}}) {
    const Tensor x = testing::random_normal(shape, 3, 2.0), dy = testing::random_normal(shape, 4);
    State s(shape[1], DType::Float32);
    BatchNormSaved saved;
    batch_norm_train_forward(x, s.gamma, s.beta, s.running_mean, s.running_var, nullptr, kMomentum,
                             kEps, &saved);
    const BatchNormGrads g = batch_norm_backward(dy, x, s.gamma, saved);
    const double count = static_cast<double>(x.numel() / shape[1]);
    const Tensor dx = batch_norm_backward_input(dy, x, s.gamma, saved, g.dgamma, g.dbeta, count);
    EXPECT_EQ(dx.to_vector<float>(), g.dx.to_vector<float>()) << shape.str();
    const Tensor other =
        batch_norm_backward_input(dy, x, s.gamma, saved, g.dgamma, g.dbeta, 2 * count);
    EXPECT_GT(testing::max_difference(g.dx, other).max_relative, 1e-3);
    EXPECT_THROW(batch_norm_backward_input(dy, x, s.gamma, saved, g.dgamma, g.dbeta, count - 1),
                 Error);
  }
}

TEST(BatchNormBackwardInputGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  const Shape shape{9, 6, 5, 3};
  const Tensor x = testing::random_normal(shape, 5, 2.0), dy = testing::random_normal(shape, 6);
  State s(6, DType::Float32);
  BatchNormSaved saved;
  batch_norm_train_forward(x, s.gamma, s.beta, s.running_mean, s.running_var, nullptr, kMomentum,
                           kEps, &saved);
  const BatchNormGrads g = batch_norm_backward(dy, x, s.gamma, saved);
  const double count = 3.0 * 9 * 5 * 3;  // as if three processes held such a batch
  const Tensor cpu = batch_norm_backward_input(dy, x, s.gamma, saved, g.dgamma, g.dbeta, count);
  const Device gpu = Device::cuda();
  const BatchNormSaved saved_gpu{saved.mean.to(gpu), saved.invstd.to(gpu)};
  const Tensor on_gpu = batch_norm_backward_input(dy.to(gpu), x.to(gpu), s.gamma.to(gpu), saved_gpu,
                                                  g.dgamma.to(gpu), g.dbeta.to(gpu), count);
  EXPECT_TRUE(on_gpu.device().is_cuda());
  EXPECT_TENSORS_CLOSE(cpu, on_gpu, 1e-5);
}

}  // namespace
}  // namespace dlfs::kernels
