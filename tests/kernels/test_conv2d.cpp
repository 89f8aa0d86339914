// The Convolution layer's CPU paths (layers/convolution.cpp): layers with output maps of at
// least 32 pixels, and small layers, lower one image at a time (im2col per image, again in
// backward; dW summed in fixed image chunks; pointwise layers without im2col); large layers on
// tiny maps use one batched GEMM. Both against the direct convolution loops in float64 (exact up
// to rounding) and float32, and the per-image path for bit-identical results at any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "layers/convolution.hpp"
#include "runtime/generator.hpp"
#include "support/conv_reference.hpp"

namespace dlfs {
namespace {

using testing::conv_window;

struct Case {
  Shape input;
  std::int64_t out_channels;
  kernels::ConvWindow window;
};

struct Result {
  Tensor y, dx, dw, db;
};

Result run(const Case& c, DType dtype, std::uint64_t seed) {
  Convolution conv(c.input.dim(1), c.out_channels, c.window);
  Generator gen(seed);
  for (Parameter* p : conv.parameters()) p->value = p->value.to(dtype).uniform_(gen, -0.5, 0.5);
  Tensor x = Tensor::empty(c.input, dtype).uniform_(gen, -1.0, 1.0);
  Tensor y = conv.forward({x}, Mode::Train);
  Tensor dy = Tensor::empty(y.shape(), dtype).uniform_(gen, -1.0, 1.0);
  std::vector<Tensor> dx = conv.backward(dy);
  return {y, dx[0], conv.parameters()[0]->grad, conv.parameters()[1]->grad};
}

void check_against_direct(const Case& c, DType dtype, double tolerance) {
  SCOPED_TRACE(c.input.str() + " -> " + std::to_string(c.out_channels) + ", " +
               kernels::describe(c.window));
  // The same draws as run(): parameters, x, dy.
  Convolution conv(c.input.dim(1), c.out_channels, c.window);
  Generator gen(5);
  for (Parameter* p : conv.parameters()) p->value = p->value.to(dtype).uniform_(gen, -0.5, 0.5);
  Tensor x = Tensor::empty(c.input, dtype).uniform_(gen, -1.0, 1.0);
  const Result r = run(c, dtype, 5);
  Tensor dy = Tensor::empty(r.y.shape(), dtype).uniform_(gen, -1.0, 1.0);
  const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
  const Tensor& w = conv.parameters()[0]->value;
  const Tensor& b = conv.parameters()[1]->value;
  EXPECT_LE(testing::max_normalized_error(direct.forward(x, w, b), testing::as_doubles(r.y)),
            tolerance);
  EXPECT_LE(testing::max_normalized_error(direct.backward_data(dy, w), testing::as_doubles(r.dx)),
            tolerance);
  EXPECT_LE(testing::max_normalized_error(direct.backward_filter(x, dy), testing::as_doubles(r.dw)),
            tolerance);
}

std::vector<Case> per_image_cases() {
  return {
      {{100, 1, 28, 28}, 6, conv_window(5, 5, 1, 1, 2, 2)},    // LeNet conv1: 16 image chunks
      {{7, 6, 14, 14}, 16, conv_window(5, 5)},                 // LeNet conv2, a batch of 7
      {{3, 4, 9, 7}, 5, conv_window(1, 1)},                    // pointwise: no im2col at all
      {{5, 3, 9, 8}, 4, conv_window(3, 2, 2, 1, 2, 1, 2, 3)},  // stride, padding, dilation
      {{1, 2, 5, 5}, 3, conv_window(3, 3, 1, 1, 1, 1)},        // one image: one chunk
      {{2, 16, 16, 16}, 32, conv_window(3, 3, 1, 1, 1, 1)},    // large, 256-pixel maps
      {{2, 64, 16, 16}, 80, conv_window(1, 1)},                // pointwise, large
  };
}

// O * C*kh*kw * OH*OW >= 2^20 on maps under 32 pixels: the batched-GEMM path.
std::vector<Case> batched_cases() {
  return {
      {{2, 128, 4, 4}, 128, conv_window(3, 3, 1, 1, 1, 1)},  // 16 pixels, 2.4 M multiply-adds
      {{3, 512, 5, 5}, 256, conv_window(1, 1)},              // pointwise, 25 pixels
  };
}

TEST(ConvolutionCpuFast, PerImagePathMatchesDirectConvolution) {
  for (const Case& c : per_image_cases()) {
    check_against_direct(c, DType::Float64, 1e-13);
    check_against_direct(c, DType::Float32, 1e-5);
  }
}

TEST(ConvolutionCpuFast, BatchedPathMatchesDirectConvolution) {
  for (const Case& c : batched_cases()) {
    check_against_direct(c, DType::Float64, 1e-13);
    check_against_direct(c, DType::Float32, 1e-5);
  }
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data<float>(), b.data<float>(), sizeof(float) * a.numel()) == 0;
}

TEST(ConvolutionCpuFast, PerImagePathIsBitIdenticalForAnyThreadCount) {
  const Case lenet{{100, 6, 14, 14}, 16, conv_window(5, 5)};
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = run(lenet, DType::Float32, 9);
  for (int t : {2, 3}) {
    omp_set_num_threads(t);
    const Result many = run(lenet, DType::Float32, 9);
    EXPECT_TRUE(bitwise_equal(one.y, many.y)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dx, many.dx)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dw, many.dw)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.db, many.db)) << t << " threads";
  }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dlfs
