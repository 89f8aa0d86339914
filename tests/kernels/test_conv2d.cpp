// The convolution op (kernels/conv2d.hpp) on the CPU: its rule picks PerImage for layers with
// output maps of at least 32 pixels and for small layers (im2col per image, again in backward;
// dW summed in fixed image chunks; pointwise layers without im2col), and BatchedColumns (one
// batched GEMM) for large layers on tiny maps. Each path, forced on every case, against the
// direct convolution loops in float64 (exact up to rounding) and float32, and the per-image path
// for bit-identical results at any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "dlfs/kernels/conv2d.hpp"
#include "dlfs/runtime/generator.hpp"
#include "support/conv_reference.hpp"

namespace dlfs {
namespace {

using kernels::Conv2dPath;
using testing::conv_window;

struct Case {
  Shape input;
  std::int64_t out_channels;
  kernels::ConvWindow window;
};

struct Inputs {
  Tensor x, weight, dy;
};

// Weight, x and dy drawn in that order from `seed`.
Inputs draw(const Case& c, DType dtype, std::uint64_t seed) {
  Generator gen(seed);
  const kernels::ConvWindow& w = c.window;
  Inputs in;
  in.weight = Tensor::empty({c.out_channels, c.input[1], w.kernel_h, w.kernel_w}, dtype)
                  .uniform_(gen, -0.5, 0.5);
  in.x = Tensor::empty(c.input, dtype).uniform_(gen, -1.0, 1.0);
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  in.dy =
      Tensor::empty({g.batch, c.out_channels, g.out_h, g.out_w}, dtype).uniform_(gen, -1.0, 1.0);
  return in;
}

struct Result {
  Tensor y, dx, dw;
};

Result run(const Case& c, const Inputs& in, Conv2dPath path) {
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  kernels::Conv2dCache cache;
  kernels::Conv2dSaved saved;
  Tensor y = kernels::conv2d_forward(in.x, in.weight, g, path, cache, &saved);
  EXPECT_EQ(saved.path, path);
  const kernels::Conv2dGradients grads = kernels::conv2d_backward(in.dy, in.weight, saved, cache);
  return {y, grads.input, grads.weight};
}

Conv2dPath chosen_path(const Case& c, const Tensor& x) {
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  return kernels::choose_conv2d_path(kernels::ConvAlgorithm::Im2col, g, c.out_channels, x);
}

void check_against_direct(const Case& c, Conv2dPath path, DType dtype, double tolerance) {
  SCOPED_TRACE(c.input.str() + " -> " + std::to_string(c.out_channels) + ", " +
               kernels::describe(c.window) + ", " + kernels::conv2d_path_name(path));
  const Inputs in = draw(c, dtype, 5);
  const Result r = run(c, in, path);
  const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
  EXPECT_LE(testing::max_normalized_error(direct.forward(in.x, in.weight, Tensor()),
                                          testing::as_doubles(r.y)),
            tolerance);
  EXPECT_LE(testing::max_normalized_error(direct.backward_data(in.dy, in.weight),
                                          testing::as_doubles(r.dx)),
            tolerance);
  EXPECT_LE(
      testing::max_normalized_error(direct.backward_filter(in.x, in.dy), testing::as_doubles(r.dw)),
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

TEST(Conv2dCpu, RuleChoosesPerImageForLargeMapsAndSmallLayers) {
  for (const Case& c : per_image_cases())
    EXPECT_EQ(chosen_path(c, Tensor::zeros(c.input)), Conv2dPath::PerImage) << c.input.str();
  for (const Case& c : batched_cases())
    EXPECT_EQ(chosen_path(c, Tensor::zeros(c.input)), Conv2dPath::BatchedColumns) << c.input.str();
}

TEST(Conv2dCpu, CudnnIsNeverChosenOnTheCpu) {
  const Case c = per_image_cases()[1];
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Cudnn, g, c.out_channels,
                                        Tensor::zeros(c.input)),
            Conv2dPath::PerImage);
}

TEST(Conv2dCpu, BothPathsMatchDirectConvolutionOnEveryCase) {
  std::vector<Case> cases = per_image_cases();
  for (const Case& c : batched_cases()) cases.push_back(c);
  for (const Case& c : cases)
    for (Conv2dPath path : {Conv2dPath::PerImage, Conv2dPath::BatchedColumns}) {
      check_against_direct(c, path, DType::Float64, 1e-13);
      check_against_direct(c, path, DType::Float32, 1e-5);
    }
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data<float>(), b.data<float>(), sizeof(float) * a.numel()) == 0;
}

TEST(Conv2dCpu, PerImagePathIsBitIdenticalForAnyThreadCount) {
  const Case lenet{{100, 6, 14, 14}, 16, conv_window(5, 5)};
  const Inputs in = draw(lenet, DType::Float32, 9);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = run(lenet, in, Conv2dPath::PerImage);
  for (int t : {2, 3}) {
    omp_set_num_threads(t);
    const Result many = run(lenet, in, Conv2dPath::PerImage);
    EXPECT_TRUE(bitwise_equal(one.y, many.y)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dx, many.dx)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dw, many.dw)) << t << " threads";
  }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dlfs
