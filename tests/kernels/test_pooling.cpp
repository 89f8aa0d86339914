// Max, average and global average pooling kernels: hand-computed cases, naive references over
// an explicitly padded plane, shape errors, and CPU/GPU equivalence.
#include <gtest/gtest.h>

#include <omp.h>
#include <cmath>
#include <cstring>
#include <limits>

#include "dlfs/kernels/avg_pool.hpp"
#include "dlfs/kernels/global_avg_pool.hpp"
#include "dlfs/kernels/max_pool.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/max_pool_reference.hpp"

namespace dlfs::kernels {
namespace {

const std::vector<float> kFourByFour = {1, 5,  2,  0,   //
                                        3, 4,  8,  6,   //
                                        7, -1, 9,  10,  //
                                        2, 0,  11, 3};

TEST(MaxPool, TwoByTwoStrideTwoOnFourByFour) {
  Tensor x = Tensor::from_vector<float>(kFourByFour, {1, 1, 4, 4});
  Tensor argmax;
  Tensor y = max_pool_forward(x, PoolWindow::square(2, 2), &argmax);
  EXPECT_EQ(y.shape(), Shape({1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({5, 8, 7, 11}));
  EXPECT_EQ(argmax.dtype(), DType::Int32);
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({1, 6, 8, 14}));

  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor dx = max_pool_backward(dy, argmax, x.shape(), PoolWindow::square(2, 2));
  std::vector<float> expected(16, 0.0f);
  expected[1] = 1;
  expected[6] = 2;
  expected[8] = 3;
  expected[14] = 4;
  EXPECT_EQ(dx.to_vector<float>(), expected);
}

TEST(MaxPool, PaddingActsAsMinusInfinity) {
  // All inputs negative: a zero padding would win every border window.
  Tensor x = Tensor::from_vector<float>({-1, -2, -3, -4, -5, -6, -7, -8, -9}, {1, 1, 3, 3});
  Tensor argmax;
  Tensor y = max_pool_forward(x, PoolWindow::square(2, 2, 1), &argmax);
  EXPECT_EQ(y.shape(), Shape({1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({-1, -2, -4, -5}));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({0, 1, 3, 4}));
}

TEST(MaxPool, OverlappingWindowsAddTheirGradients) {
  // k3 s1 p1 on 3x3: the centre is in all nine windows and is everyone's maximum.
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 100, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor argmax;
  const PoolWindow w = PoolWindow::square(3, 1, 1);
  Tensor y = max_pool_forward(x, w, &argmax);
  EXPECT_EQ(y.to_vector<double>(), std::vector<double>(9, 100.0));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>(9, 4));
  Tensor dy = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor dx = max_pool_backward(dy, argmax, x.shape(), w);
  EXPECT_EQ(dx.to_vector<double>(), std::vector<double>({0, 0, 0, 0, 45, 0, 0, 0, 0}));
}

TEST(MaxPool, TiesGoToTheFirstPixelInRowMajorOrder) {
  Tensor x = Tensor::full({1, 1, 2, 4}, 3.0);
  Tensor argmax;
  Tensor y = max_pool_forward(x, PoolWindow::square(2, 2), &argmax);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({3, 3}));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({0, 2}));
}

// Ties on the general (not 2x2 stride 2) path: a constant plane, so every window is one tie. Each
// window's first real pixel in row-major order wins, and backward routes its gradient there.
TEST(MaxPool, TiesGoToTheFirstPixelOnTheGeneralPath) {
  // k3 s1 p1 on 4x4: window (oh, ow) starts at pixel (max(oh - 1, 0), max(ow - 1, 0)).
  Tensor x = Tensor::full({1, 1, 4, 4}, 2.0);
  Tensor argmax;
  const PoolWindow w = PoolWindow::square(3, 1, 1);
  Tensor y = max_pool_forward(x, w, &argmax);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>(16, 2.0f));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(),
            std::vector<std::int32_t>({0, 0, 1, 2, 0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10}));
  // Pixel 0 is first in four windows (1 + 2 + 5 + 6 = 14), pixel 4 in two (9 + 10), ...
  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                         {1, 1, 4, 4});
  EXPECT_EQ(max_pool_backward(dy, argmax, x.shape(), w).to_vector<float>(),
            std::vector<float>({14, 10, 12, 0, 19, 11, 12, 0, 27, 15, 16, 0, 0, 0, 0, 0}));

  // 2x2 stride 1 (overlapping, no padding) and 3x2 stride 2 (rectangular): not the fast path.
  Tensor x2 = Tensor::from_vector<float>({1, 7, 7,  //
                                          7, 7, 0,  //
                                          7, 7, 7},
                                         {1, 1, 3, 3});
  y = max_pool_forward(x2, PoolWindow::square(2, 1), &argmax);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>(4, 7.0f));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({1, 1, 3, 4}));
  y = max_pool_forward(x2, PoolWindow{3, 2, 2, 2, 0, 0}, &argmax);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({7.0f}));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({1}));
}

TEST(MaxPool, TiesGoToTheFirstPixelWhen2x2Stride2HasPadding) {
  // 2x2 stride 2 with padding 1 leaves the fast path: windows at the border hold one or two
  // real pixels, the rest padding; the first real one wins the tie.
  Tensor x = Tensor::full({1, 1, 3, 3}, -1.0, DType::Float64);
  Tensor argmax;
  Tensor y = max_pool_forward(x, PoolWindow::square(2, 2, 1), &argmax);
  EXPECT_EQ(y.to_vector<double>(), std::vector<double>(4, -1.0));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({0, 1, 3, 4}));
}

TEST(MaxPool, NanWins) {
  Tensor x = Tensor::from_vector<float>({1, std::nanf(""), 3, 2}, {1, 1, 2, 2});
  Tensor argmax;
  Tensor y = max_pool_forward(x, PoolWindow::square(2, 2), &argmax);
  EXPECT_TRUE(std::isnan(y.to_vector<float>()[0]));
  EXPECT_EQ(argmax.to_vector<std::int32_t>()[0], 1);
}

// Average-pooling reference: copy the plane into an explicitly zero-padded one, then average
// each window of it (padding counts in the divisor). Max pooling's reference is
// support/max_pool_reference.hpp.
std::vector<double> naive_avg_pool(const std::vector<double>& x, const Shape& shape,
                                   const PoolWindow& w) {
  const std::int64_t planes = shape[0] * shape[1], H = shape[2], W = shape[3];
  const std::int64_t PH = H + 2 * w.pad_h, PW = W + 2 * w.pad_w;
  const std::int64_t OH = (PH - w.kernel_h) / w.stride_h + 1;
  const std::int64_t OW = (PW - w.kernel_w) / w.stride_w + 1;
  std::vector<double> y;
  for (std::int64_t p = 0; p < planes; ++p) {
    std::vector<double> padded(static_cast<std::size_t>(PH * PW), 0.0);
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t c = 0; c < W; ++c)
        padded[static_cast<std::size_t>((h + w.pad_h) * PW + c + w.pad_w)] =
            x[static_cast<std::size_t>(p * H * W + h * W + c)];
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        double acc = 0.0;
        for (int i = 0; i < w.kernel_h; ++i)
          for (int j = 0; j < w.kernel_w; ++j)
            acc +=
                padded[static_cast<std::size_t>((oh * w.stride_h + i) * PW + ow * w.stride_w + j)];
        y.push_back(acc / (w.kernel_h * w.kernel_w));
      }
  }
  return y;
}

// Distinct values, so the argmax is unambiguous.
Tensor distinct_values(const Shape& shape, std::uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape, DType::Float64);
  t.uniform_(g, -5.0, 5.0);
  return t;
}

const PoolWindow kOddWindows[] = {
    PoolWindow::square(3, 2, 1),  PoolWindow::square(2, 2),
    PoolWindow{3, 2, 1, 2, 1, 1},  // rectangular window and stride
    PoolWindow{7, 9, 1, 1, 0, 0},  // the whole 7x9 input
    PoolWindow{4, 4, 3, 3, 2, 2},  // padding of half the window
};

TEST(MaxPool, MatchesNaiveReferenceOnOddShapes) {
  const Shape shape{2, 3, 7, 9};
  Tensor x = distinct_values(shape, 7);
  for (const PoolWindow& w : kOddWindows) {
    SCOPED_TRACE(w.str());
    Tensor argmax;
    Tensor y = max_pool_forward(x, w, &argmax);
    const auto r =
        testing::max_pool_reference(x.to_vector<double>(), pool2d_geometry("test", shape, w));
    EXPECT_EQ(y.to_vector<double>(), r.y);
    EXPECT_EQ(argmax.to_vector<std::int32_t>(), r.argmax);
  }
}

// Every path against the definition, with ties, NaN, -0 and infinities in most windows: the
// 2x2 stride-2 fast path, the general path (overlapping, rectangular, padded windows), and both
// through the OpenMP branch (> 65536 outputs) at one, two and three threads.
template <typename T>
void expect_max_pool_matches_reference(const Shape& shape, const PoolWindow& w,
                                       std::uint64_t seed) {
  SCOPED_TRACE(shape.str() + " " + w.str());
  const Pool2dGeometry g = pool2d_geometry("test", shape, w);
  const std::vector<T> xv = testing::max_pool_tricky_values<T>(shape.numel(), seed);
  const auto r = testing::max_pool_reference(xv, g);
  Tensor x = Tensor::from_vector<T>(xv, shape);
  Tensor argmax;
  const std::vector<T> y = max_pool_forward(x, w, &argmax).template to_vector<T>();
  ASSERT_EQ(y.size(), r.y.size());
  EXPECT_EQ(std::memcmp(y.data(), r.y.data(), y.size() * sizeof(T)), 0);
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), r.argmax);
  // Inference's forward, without an argmax: the same bits.
  const std::vector<T> values = max_pool_forward(x, w, nullptr).template to_vector<T>();
  EXPECT_EQ(std::memcmp(values.data(), r.y.data(), values.size() * sizeof(T)), 0);
}

TEST(MaxPool, EveryPathBreaksTiesLikeTheDefinition) {
  std::uint64_t seed = 100;
  for (const PoolWindow& w : kOddWindows) {
    expect_max_pool_matches_reference<float>({2, 3, 7, 9}, w, ++seed);
    expect_max_pool_matches_reference<double>({2, 3, 7, 9}, w, ++seed);
  }
  expect_max_pool_matches_reference<float>({1, 2, 6, 6}, PoolWindow::square(3, 3), ++seed);
  const int threads = omp_get_max_threads();
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    expect_max_pool_matches_reference<float>({4, 75, 31, 29}, PoolWindow::square(3, 1, 1), 7);
    expect_max_pool_matches_reference<float>({4, 75, 60, 58}, PoolWindow::square(2, 2), 8);
  }
  omp_set_num_threads(threads);
}

TEST(AvgPool, TwoByTwoStrideTwoOnFourByFour) {
  Tensor x = Tensor::from_vector<float>(kFourByFour, {1, 1, 4, 4});
  const PoolWindow w = PoolWindow::square(2, 2);
  Tensor y = avg_pool_forward(x, w);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({3.25f, 4, 2, 8.25f}));
  Tensor dy = Tensor::from_vector<float>({4, 8, 12, 16}, {1, 1, 2, 2});
  EXPECT_EQ(avg_pool_backward(dy, x.shape(), w).to_vector<float>(),
            std::vector<float>({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(AvgPool, PaddingCountsInTheDivisor) {
  // k3 s1 p1 over ones: corners see 4 real pixels, edges 6, the centre 9; all divide by 9.
  Tensor x = Tensor::full({1, 1, 3, 3}, 1.0, DType::Float64);
  const PoolWindow w = PoolWindow::square(3, 1, 1);
  Tensor y = avg_pool_forward(x, w);
  const std::vector<double> expected = {4 / 9., 6 / 9., 4 / 9., 6 / 9., 1.0,
                                        6 / 9., 4 / 9., 6 / 9., 4 / 9.};
  const std::vector<double> got = y.to_vector<double>();
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(got[i], expected[i]) << i;
  // Backward is the transpose: a pixel gets 1/9 from each window covering it (4, 6 or 9).
  Tensor dx = avg_pool_backward(Tensor::full({1, 1, 3, 3}, 1.0, DType::Float64), x.shape(), w);
  const std::vector<double> dx_got = dx.to_vector<double>();
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(dx_got[i], expected[i]) << i;
}

TEST(AvgPool, MatchesNaiveReferenceOnOddShapes) {
  const Shape shape{2, 3, 7, 9};
  Tensor x = distinct_values(shape, 8);
  for (const PoolWindow& w : kOddWindows) {
    SCOPED_TRACE(w.str());
    const std::vector<double> y = avg_pool_forward(x, w).to_vector<double>();
    const std::vector<double> r = naive_avg_pool(x.to_vector<double>(), shape, w);
    ASSERT_EQ(y.size(), r.size());
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], r[i], 1e-12) << i;
  }
}

TEST(AvgPool, BackwardIsTheTransposeOfForward) {
  // <avg(x), dy> = <x, avg_backward(dy)> for any x and dy: the adjoint identity.
  const Shape shape{2, 3, 7, 9};
  for (const PoolWindow& w : kOddWindows) {
    SCOPED_TRACE(w.str());
    Tensor x = distinct_values(shape, 9);
    Tensor y = avg_pool_forward(x, w);
    Tensor dy = distinct_values(y.shape(), 10);
    Tensor dx = avg_pool_backward(dy, shape, w);
    double lhs = 0, rhs = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) lhs += y.data<double>()[i] * dy.data<double>()[i];
    for (std::int64_t i = 0; i < x.numel(); ++i) rhs += x.data<double>()[i] * dx.data<double>()[i];
    EXPECT_NEAR(lhs, rhs, 1e-9 * std::max(1.0, std::abs(lhs)));
  }
}

TEST(GlobalAvgPool, MeanOfEachPlane) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, -1, -1, 5, 1}, {1, 2, 2, 2});
  Tensor y = global_avg_pool_forward(x);
  EXPECT_EQ(y.shape(), Shape({1, 2, 1, 1}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({2.5f, 1.0f}));
  Tensor dy = Tensor::from_vector<float>({4, 8}, {1, 2, 1, 1});
  EXPECT_EQ(global_avg_pool_backward(dy, x.shape()).to_vector<float>(),
            std::vector<float>({1, 1, 1, 1, 2, 2, 2, 2}));
}

TEST(Pooling, RejectsWindowsThatDoNotFit) {
  Tensor argmax;
  Tensor x = Tensor::zeros({1, 1, 3, 3});
  EXPECT_THROW(max_pool_forward(x, PoolWindow::square(4, 1), &argmax), Error);
  EXPECT_THROW(avg_pool_forward(x, PoolWindow::square(4, 1)), Error);
  // With padding 2 a 5-window fits a 3x3 input.
  EXPECT_EQ(max_pool_forward(x, PoolWindow::square(5, 1, 2), &argmax).shape(), Shape({1, 1, 3, 3}));
  EXPECT_THROW(max_pool_forward(x, PoolWindow::square(2, 1, 2), &argmax), Error);  // pad > k/2
  EXPECT_THROW(max_pool_forward(x, PoolWindow::square(2, 0), &argmax), Error);
  EXPECT_THROW(max_pool_forward(Tensor::zeros({3, 3}), PoolWindow::square(2, 2), &argmax), Error);
  EXPECT_THROW(global_avg_pool_forward(Tensor::zeros({2, 3})), Error);
  try {
    max_pool_forward(x, PoolWindow::square(4, 1), &argmax);
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("max_pool_forward"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, 1, 3, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("does not fit"), std::string::npos) << message;
  }
}

TEST(Pooling, BackwardRejectsMismatchedGradients) {
  Tensor argmax;
  Tensor x = Tensor::zeros({2, 3, 6, 6});
  const PoolWindow w = PoolWindow::square(2, 2);
  Tensor y = max_pool_forward(x, w, &argmax);
  EXPECT_THROW(max_pool_backward(Tensor::zeros({2, 3, 3, 4}), argmax, x.shape(), w), Error);
  EXPECT_THROW(avg_pool_backward(Tensor::zeros({2, 3, 3, 4}), x.shape(), w), Error);
  EXPECT_THROW(global_avg_pool_backward(Tensor::zeros({2, 3, 1, 2}), x.shape()), Error);
}

// ---- CPU/GPU equivalence -------------------------------------------------------------------

Tensor random_float(const Shape& shape, std::uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(shape);
  t.normal_(g);
  return t;
}

// Both devices scan each window in the same order with the same comparison (max) or the same
// additions (average), and gather each input pixel's gradients in the same order: results are
// expected to be identical; 1e-6 leaves room for the compilers' instruction choices.
void expect_max_pool_equivalent(const Shape& shape, const PoolWindow& w) {
  SCOPED_TRACE(shape.str() + " " + w.str());
  Tensor x = random_float(shape, 11);
  Tensor argmax, argmax_d;
  Tensor y = max_pool_forward(x, w, &argmax);
  Tensor yd = max_pool_forward(x.to(Device::cuda()), w, &argmax_d);
  EXPECT_TENSORS_CLOSE(y, yd, 1e-6);
  EXPECT_TENSORS_CLOSE(y, max_pool_forward(x.to(Device::cuda()), w, nullptr), 1e-6);
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), argmax_d.to_vector<std::int32_t>());
  Tensor dy = random_float(y.shape(), 12);
  EXPECT_TENSORS_CLOSE(max_pool_backward(dy, argmax, shape, w),
                       max_pool_backward(dy.to(Device::cuda()), argmax_d, shape, w), 1e-6);
}

void expect_avg_pool_equivalent(const Shape& shape, const PoolWindow& w) {
  SCOPED_TRACE(shape.str() + " " + w.str());
  Tensor x = random_float(shape, 13);
  Tensor y = avg_pool_forward(x, w);
  EXPECT_TENSORS_CLOSE(y, avg_pool_forward(x.to(Device::cuda()), w), 1e-6);
  Tensor dy = random_float(y.shape(), 14);
  EXPECT_TENSORS_CLOSE(avg_pool_backward(dy, shape, w),
                       avg_pool_backward(dy.to(Device::cuda()), shape, w), 1e-6);
}

TEST(MaxPoolGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  for (const PoolWindow& w : kOddWindows) expect_max_pool_equivalent({3, 5, 7, 9}, w);
  expect_max_pool_equivalent({1, 1, 1, 1}, PoolWindow::square(1, 1));
  expect_max_pool_equivalent({2, 3, 13, 11}, PoolWindow::square(3, 1, 1));
}

// The GPU kernel breaks ties as the definition does on the windows of both CPU paths: the
// hand-computed constant planes of the CPU tests, then tie-heavy random planes.
TEST(MaxPoolGpu, TiesGoToTheFirstPixelOnEveryPath) {
  DLFS_REQUIRE_GPU();
  Tensor argmax;
  Tensor y = max_pool_forward(Tensor::full({1, 1, 2, 4}, 3.0, DType::Float32, Device::cuda()),
                              PoolWindow::square(2, 2), &argmax);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({3, 3}));
  EXPECT_EQ(argmax.to_vector<std::int32_t>(), std::vector<std::int32_t>({0, 2}));
  const PoolWindow w = PoolWindow::square(3, 1, 1);
  y = max_pool_forward(Tensor::full({1, 1, 4, 4}, 2.0, DType::Float32, Device::cuda()), w, &argmax);
  EXPECT_EQ(argmax.to_vector<std::int32_t>(),
            std::vector<std::int32_t>({0, 0, 1, 2, 0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10}));
  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                         {1, 1, 4, 4});
  EXPECT_EQ(max_pool_backward(dy.to(Device::cuda()), argmax, {1, 1, 4, 4}, w).to_vector<float>(),
            std::vector<float>({14, 10, 12, 0, 19, 11, 12, 0, 27, 15, 16, 0, 0, 0, 0, 0}));

  std::uint64_t seed = 200;
  std::vector<PoolWindow> windows(std::begin(kOddWindows), std::end(kOddWindows));
  windows.push_back(PoolWindow::square(2, 2, 1));
  for (const PoolWindow& pw : windows) {
    const Shape shape{2, 3, 7, 9};
    SCOPED_TRACE(pw.str());
    const std::vector<float> xv = testing::max_pool_tricky_values<float>(shape.numel(), ++seed);
    const auto r = testing::max_pool_reference(xv, pool2d_geometry("test", shape, pw));
    Tensor yd =
        max_pool_forward(Tensor::from_vector<float>(xv, shape).to(Device::cuda()), pw, &argmax);
    const std::vector<float> got = yd.to_vector<float>();
    ASSERT_EQ(got.size(), r.y.size());
    EXPECT_EQ(std::memcmp(got.data(), r.y.data(), got.size() * sizeof(float)), 0);
    EXPECT_EQ(argmax.to_vector<std::int32_t>(), r.argmax);
  }
}

TEST(MaxPoolGpu, MatchesCpuOnLargeShapes) {
  DLFS_REQUIRE_GPU();
  expect_max_pool_equivalent({128, 3, 224, 224}, PoolWindow::square(3, 2, 1));  // ResNet stem
  expect_max_pool_equivalent({128, 3, 224, 224}, PoolWindow::square(2, 2));
}

TEST(AvgPoolGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  for (const PoolWindow& w : kOddWindows) expect_avg_pool_equivalent({3, 5, 7, 9}, w);
  expect_avg_pool_equivalent({2, 3, 13, 11}, PoolWindow::square(3, 1, 1));
}

TEST(AvgPoolGpu, MatchesCpuOnLargeShapes) {
  DLFS_REQUIRE_GPU();
  expect_avg_pool_equivalent({128, 3, 224, 224}, PoolWindow::square(3, 2, 1));
  expect_avg_pool_equivalent({128, 3, 224, 224}, PoolWindow::square(2, 2));
}

TEST(GlobalAvgPoolGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  // The CPU sums in double; the GPU sums float32 per thread (at most 196 terms for 224x224 with
  // 256 threads), then in a tree. Inputs in [0, 1) avoid cancellation, so the relative error is
  // bounded by about (196 + 8) * 2^-24 ~ 1.2e-5 and is typically far smaller; allow 2e-5.
  for (const Shape& shape :
       {Shape{3, 5, 7, 9}, Shape{1, 1, 1, 1}, Shape{64, 512, 7, 7}, Shape{128, 3, 224, 224}}) {
    SCOPED_TRACE(shape.str());
    Generator g(15);
    Tensor x = Tensor::empty(shape);
    x.uniform_(g);
    Tensor y = global_avg_pool_forward(x);
    EXPECT_TENSORS_CLOSE(y, global_avg_pool_forward(x.to(Device::cuda())), 2e-5);
    Tensor dy = random_float(y.shape(), 16);
    // Elementwise (one division each): identical up to 1e-6.
    EXPECT_TENSORS_CLOSE(global_avg_pool_backward(dy, shape),
                         global_avg_pool_backward(dy.to(Device::cuda()), shape), 1e-6);
  }
}

}  // namespace
}  // namespace dlfs::kernels
