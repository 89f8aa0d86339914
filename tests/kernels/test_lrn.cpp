// Local response normalization kernels: hand-computed values, a naive reference with explicit
// zero padding of the channel axis, and CPU/GPU equivalence.
#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/lrn.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

TEST(Lrn, HandComputedOddWindow) {
  // size 3, alpha 3 (alpha / size = 1), beta 1, k 1: scale_c = 1 + x_{c-1}^2 + x_c^2 + x_{c+1}^2.
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {1, 3, 1, 1});
  Tensor scale;
  Tensor y = lrn_forward(x, {3, 3.0, 1.0, 1.0}, &scale);
  EXPECT_EQ(scale.to_vector<double>(), std::vector<double>({6, 15, 14}));
  const std::vector<double> yv = y.to_vector<double>();
  EXPECT_DOUBLE_EQ(yv[0], 1.0 / 6);
  EXPECT_DOUBLE_EQ(yv[1], 2.0 / 15);
  EXPECT_DOUBLE_EQ(yv[2], 3.0 / 14);
}

TEST(Lrn, EvenWindowLeansBackwardAsPyTorch) {
  // size 2 covers channels c-1 and c (PyTorch pads size/2 before and (size-1)/2 after).
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {1, 3, 1});
  Tensor scale;
  lrn_forward(x, {2, 2.0, 1.0, 1.0}, &scale);
  EXPECT_EQ(scale.to_vector<double>(), std::vector<double>({2, 6, 14}));
}

// Reference: square, zero-pad the channel axis, sum each window (PyTorch's construction).
std::vector<double> naive_lrn(const std::vector<double>& x, const Shape& shape,
                              const LrnParams& p) {
  const std::int64_t N = shape[0], C = shape[1], S = shape.numel() / (N * C);
  const std::int64_t before = p.size / 2, after = (p.size - 1) / 2;
  std::vector<double> y(x.size());
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t q = 0; q < S; ++q) {
      std::vector<double> padded(static_cast<std::size_t>(C + before + after), 0.0);
      for (std::int64_t c = 0; c < C; ++c)
        padded[static_cast<std::size_t>(c + before)] = std::pow(x[(n * C + c) * S + q], 2);
      for (std::int64_t c = 0; c < C; ++c) {
        double sum = 0;
        for (int j = 0; j < p.size; ++j) sum += padded[static_cast<std::size_t>(c + j)];
        const std::size_t i = static_cast<std::size_t>((n * C + c) * S + q);
        y[i] = x[i] / std::pow(p.k + p.alpha / p.size * sum, p.beta);
      }
    }
  return y;
}

TEST(Lrn, MatchesNaiveReference) {
  const Shape shape{2, 7, 3, 5};
  Generator g(1);
  Tensor x = Tensor::empty(shape, DType::Float64);
  x.normal_(g, 0.0, 3.0);
  for (const LrnParams& p :
       {LrnParams{5, 1e-4, 0.75, 1.0}, LrnParams{5, 5e-4, 0.75, 2.0}, LrnParams{2, 0.5, 0.5, 1.5},
        LrnParams{1, 1.0, 1.0, 1.0}, LrnParams{9, 0.3, 0.75, 1.0}}) {
    SCOPED_TRACE("size " + std::to_string(p.size));
    Tensor scale;
    const std::vector<double> y = lrn_forward(x, p, &scale).to_vector<double>();
    const std::vector<double> ref = naive_lrn(x.to_vector<double>(), shape, p);
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-13) << i;
  }
}

TEST(Lrn, RejectsBadInputs) {
  Tensor scale;
  EXPECT_THROW(lrn_forward(Tensor::zeros({4, 5}), {}, &scale), Error);
  EXPECT_THROW(lrn_forward(Tensor::zeros({1, 5, 2, 2}), {0, 1e-4, 0.75, 1.0}, &scale), Error);
  Tensor x = Tensor::zeros({1, 5, 2, 2});
  Tensor y = lrn_forward(x, {}, &scale);
  EXPECT_THROW(lrn_backward(Tensor::zeros({1, 5, 2, 3}), x, y, scale, {}), Error);
}

TEST(LrnGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  // Same summation order on both devices; powf and std::pow may differ by an ulp or two.
  for (const Shape& shape : {Shape{3, 7, 5, 9}, Shape{1, 1, 1, 1}, Shape{128, 96, 55, 55}}) {
    for (const LrnParams& p : {LrnParams{5, 5e-4, 0.75, 2.0}, LrnParams{2, 1e-4, 0.75, 1.0}}) {
      SCOPED_TRACE(shape.str() + " size " + std::to_string(p.size));
      Generator g(2);
      Tensor x = Tensor::empty(shape);
      x.normal_(g, 0.0, 3.0);
      Tensor dy = Tensor::empty(shape);
      dy.normal_(g);
      Tensor scale, scale_d;
      Tensor y = lrn_forward(x, p, &scale);
      Tensor xd = x.to(Device::cuda());
      Tensor yd = lrn_forward(xd, p, &scale_d);
      EXPECT_TENSORS_CLOSE(y, yd, 1e-5);
      EXPECT_TENSORS_CLOSE(scale, scale_d, 1e-5);
      EXPECT_TENSORS_CLOSE(lrn_backward(dy, x, y, scale, p),
                           lrn_backward(dy.to(Device::cuda()), xd, yd, scale_d, p), 1e-5);
    }
  }
}

}  // namespace
}  // namespace dlfs::kernels
