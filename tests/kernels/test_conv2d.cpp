// The convolution op (kernels/conv2d.hpp) on the CPU: its rule picks oneDNN for float32 unless
// the layer asks for im2col, and among dlfs's own paths PerImage for layers with output maps of
// at least 32 pixels and for small layers (im2col per image, again in backward; dW summed in
// fixed image chunks; pointwise layers without im2col), and BatchedColumns (one batched GEMM) for
// large layers on tiny maps. Each path, forced on every case, against the direct convolution
// loops in float64 (exact up to rounding) and float32; the per-image path for bit-identical
// results at any thread count; oneDNN for a float32 gradient check and for the same bits from
// run to run.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/conv2d.hpp"
#include "dlfs/kernels/cpu/direct_conv2d.hpp"
#include "dlfs/kernels/cpu/onednn_conv2d.hpp"
#include "dlfs/kernels/max_pool.hpp"
#include "dlfs/kernels/relu.hpp"
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
  const Conv2dPath automatic =
      kernels::onednn::available() ? Conv2dPath::Onednn : Conv2dPath::PerImage;
  EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Cudnn, g, c.out_channels,
                                        Tensor::zeros(c.input)),
            automatic);
}

TEST(Conv2dCpu, RuleTakesOnednnForFloat32UnlessIm2colIsAsked) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  std::vector<Case> cases = per_image_cases();
  for (const Case& c : batched_cases()) cases.push_back(c);
  int automatic_onednn = 0;
  for (const Case& c : cases) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    SCOPED_TRACE(c.input.str() + " " + kernels::describe(c.window));
    const Conv2dPath own = chosen_path(c, Tensor::zeros(c.input));
    // Auto: oneDNN from kOnednnMinChannels input channels up, for kernels larger than 1x1.
    const bool onednn_pays = c.input[1] >= kernels::kOnednnMinChannels &&
                             !(c.window.kernel_h == 1 && c.window.kernel_w == 1);
    automatic_onednn += onednn_pays;
    const Conv2dPath automatic = onednn_pays                              ? Conv2dPath::Onednn
                                 : kernels::cpu::direct_conv2d_applies(g) ? Conv2dPath::Direct
                                                                          : own;
    EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Auto, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              automatic);
    EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Onednn, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              Conv2dPath::Onednn);
    // float64 stays on dlfs's own paths: oneDNN's convolutions are float32 here.
    for (auto requested : {kernels::ConvAlgorithm::Auto, kernels::ConvAlgorithm::Onednn})
      EXPECT_EQ(kernels::choose_conv2d_path(requested, g, c.out_channels,
                                            Tensor::zeros(c.input, DType::Float64)),
                own);
    EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Im2col, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              own);
  }
  EXPECT_GE(automatic_onednn, 3);  // the cases cover both sides of the rule
  EXPECT_LE(automatic_onednn, static_cast<int>(cases.size()) - 3);
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Runs `path` twice at one thread, then at 2 and at 3 threads, and expects the same bits of y,
// dx and dW every time; returns the one-thread result and leaves the thread count as it was.
Result expect_same_bits_at_any_thread_count(const Case& c, const Inputs& in, Conv2dPath path) {
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = run(c, in, path);
  const auto expect_same = [&one](const Result& other, const std::string& what) {
    EXPECT_TRUE(bitwise_equal(one.y, other.y)) << "y, " << what;
    EXPECT_TRUE(bitwise_equal(one.dx, other.dx)) << "dx, " << what;
    EXPECT_TRUE(bitwise_equal(one.dw, other.dw)) << "dW, " << what;
  };
  expect_same(run(c, in, path), "again at 1 thread");
  for (int t : {2, 3}) {
    omp_set_num_threads(t);
    expect_same(run(c, in, path), std::to_string(t) + " threads");
  }
  omp_set_num_threads(threads);
  return one;
}

// oneDNN on every case, its odd shapes among them (stride 2, 1x1, padding, dilation, a batch of
// one), and on the shapes of the catalog's nets: LeNet's 1-channel first layer, ResNet's
// stride-2 and 1x1 shortcut layers, a VGG layer on a 3x3 map.
std::vector<Case> onednn_cases() {
  std::vector<Case> cases = per_image_cases();
  for (const Case& c : batched_cases()) cases.push_back(c);
  cases.push_back({{4, 16, 28, 28}, 32, conv_window(3, 3, 2, 2, 1, 1)});  // ResNet downsampling
  cases.push_back({{4, 16, 28, 28}, 32, conv_window(1, 1, 2, 2)});        // its 1x1 shortcut
  cases.push_back({{3, 64, 3, 3}, 64, conv_window(3, 3, 1, 1, 1, 1)});    // VGG on a 3x3 map
  cases.push_back({{2, 5, 8, 6}, 7, conv_window(2, 3, 3, 2, 1, 2)});      // bottom padding unused
  return cases;
}

TEST(Conv2dOnednn, SupportsEveryCaseAndMatchesDirectConvolution) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const Case& c : onednn_cases()) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    EXPECT_TRUE(kernels::onednn::supports(g, c.out_channels, Tensor::zeros(c.input)))
        << c.input.str() << " " << kernels::describe(c.window);
    check_against_direct(c, Conv2dPath::Onednn, DType::Float32, 1e-5);
  }
}

// The central difference of L = sum(y * r) (r fixed, random) is exact for a convolution, which
// is linear in x and in W, up to float32 rounding of L; so a large step and a tolerance of a few
// parts in 10^4 check every sampled element of dx and dW.
void expect_gradients_match_central_differences(const Case& c, Conv2dPath path) {
  SCOPED_TRACE(c.input.str() + " " + kernels::describe(c.window));
  Inputs in = draw(c, DType::Float32, 17);
  const Result analytic = run(c, in, path);  // in.dy plays r
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  const auto loss = [&](const Tensor& x, const Tensor& w) {
    kernels::Conv2dCache cache;
    const Tensor y = kernels::conv2d_forward(x, w, g, path, cache, nullptr);
    double sum = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i)
      sum += double{y.data<float>()[i]} * in.dy.data<float>()[i];
    return sum;
  };
  const double step = 0.25;
  const auto check = [&](Tensor& perturbed, const Tensor& gradient, const char* what) {
    double worst = 0;
    for (std::int64_t i = 0; i < perturbed.numel(); i += 3) {
      float& v = perturbed.data<float>()[i];
      const float original = v;
      v = original + static_cast<float>(step);
      const double plus = loss(in.x, in.weight);
      v = original - static_cast<float>(step);
      const double minus = loss(in.x, in.weight);
      v = original;
      const double numeric = (plus - minus) / (2 * step);
      const double a = gradient.data<float>()[i];
      worst = std::max(worst, std::abs(a - numeric) / std::max({std::abs(a), 1.0}));
    }
    EXPECT_LE(worst, 2e-4) << what;
  };
  check(in.x, analytic.dx, "dx");
  check(in.weight, analytic.dw, "dW");
}

TEST(Conv2dOnednn, GradientsMatchCentralDifferences) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const Case& c : {Case{{3, 5, 7, 9}, 4, conv_window(3, 3, 2, 2, 1, 1)},
                        Case{{2, 4, 5, 6}, 3, conv_window(1, 1)},
                        Case{{2, 2, 7, 8}, 2, conv_window(2, 3, 1, 2, 1, 2, 2, 3)}})
    expect_gradients_match_central_differences(c, Conv2dPath::Onednn);
}

TEST(Conv2dOnednn, SameBitsFromRunToRun) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  const Case resnet{{16, 16, 14, 14}, 16, conv_window(3, 3, 1, 1, 1, 1)};
  const Inputs in = draw(resnet, DType::Float32, 9);
  const Result first = run(resnet, in, Conv2dPath::Onednn);
  for (int round = 0; round < 3; ++round) {
    const Result again = run(resnet, in, Conv2dPath::Onednn);
    EXPECT_TRUE(bitwise_equal(first.y, again.y));
    EXPECT_TRUE(bitwise_equal(first.dx, again.dx));
    EXPECT_TRUE(bitwise_equal(first.dw, again.dw));
  }
}

TEST(Conv2dOnednn, PlanFollowsShapeChangesAndNamesItsKernels) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  const Case big{{4, 3, 10, 10}, 5, conv_window(3, 3, 1, 1, 1, 1)};
  const Case small{{2, 3, 6, 6}, 5, conv_window(3, 3, 1, 1, 1, 1)};
  kernels::Conv2dCache cache;
  for (const Case* c : {&big, &small, &big}) {
    const Inputs in = draw(*c, DType::Float32, 3);
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c->input, c->window);
    kernels::Conv2dSaved saved;
    const Tensor y = kernels::conv2d_forward(in.x, in.weight, g, Conv2dPath::Onednn, cache, &saved);
    kernels::conv2d_backward(in.dy, in.weight, saved, cache);
    ASSERT_TRUE(cache.onednn_plan);
    EXPECT_TRUE(kernels::onednn::plan_matches(*cache.onednn_plan, g, c->out_channels, false));
    const testing::DirectConvolution direct(c->input, c->out_channels, c->window);
    EXPECT_LE(testing::max_normalized_error(direct.forward(in.x, in.weight, Tensor()),
                                            testing::as_doubles(y)),
              1e-5);
  }
  const std::string kernels_used = kernels::onednn::describe(*cache.onednn_plan);
  EXPECT_NE(kernels_used.find("forward "), std::string::npos) << kernels_used;
  EXPECT_NE(kernels_used.find("backward weights "), std::string::npos) << kernels_used;
}

// The oneDNN path splits a batch into at most 8 chunks that depend on the batch size only, runs
// each on one thread and sums dW's per-chunk partials in chunk order: the same bits at 1, 2 and
// 3 threads, for a batch of 64 (8 chunks of 8), one whose last chunk is smaller (13: 6 of 2 and
// one of 1) and one of 3 images (3 chunks of 1).
TEST(Conv2dOnednn, SameBitsForAnyThreadCountUpToTheChunkCount) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const Case& c : {Case{{64, 16, 14, 14}, 32, conv_window(3, 3, 1, 1, 1, 1)},
                        Case{{13, 8, 9, 9}, 16, conv_window(3, 3, 2, 2, 1, 1)},
                        Case{{3, 6, 10, 10}, 8, conv_window(5, 5)}}) {
    SCOPED_TRACE(c.input.str() + " " + kernels::describe(c.window));
    const Inputs in = draw(c, DType::Float32, 21);
    const Result one = expect_same_bits_at_any_thread_count(c, in, Conv2dPath::Onednn);
    const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
    EXPECT_LE(testing::max_normalized_error(direct.backward_filter(in.x, in.dy),
                                            testing::as_doubles(one.dw)),
              1e-5);
  }
}

// A layer whose 8 dW partials would pass 32 MB takes fewer chunks (here 256x512x3x3, 4.7 MB of
// weights: 4 chunks of 2 images), with the same guarantees: the same bits at 1, 2 and 3 threads,
// and dW (chunk 0's partial written straight into it) against the direct loops.
TEST(Conv2dOnednn, LargeWeightsTakeFewerChunksWithTheSameBits) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  const Case c{{8, 512, 4, 4}, 256, conv_window(3, 3, 1, 1, 1, 1)};
  const Inputs in = draw(c, DType::Float32, 23);
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = run(c, in, Conv2dPath::Onednn);
  for (int t : {2, 3}) {
    omp_set_num_threads(t);
    kernels::Conv2dCache cache;
    kernels::Conv2dSaved saved;
    const Tensor y = kernels::conv2d_forward(in.x, in.weight, g, Conv2dPath::Onednn, cache, &saved);
    const kernels::Conv2dGradients grads = kernels::conv2d_backward(in.dy, in.weight, saved, cache);
    EXPECT_TRUE(bitwise_equal(one.y, y)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dx, grads.input)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dw, grads.weight)) << t << " threads";
    const std::string used = kernels::onednn::describe(*cache.onednn_plan);
    EXPECT_NE(used.find("4 chunks of 2 images"), std::string::npos) << used;
  }
  omp_set_num_threads(threads);
  const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
  EXPECT_LE(testing::max_normalized_error(direct.backward_filter(in.x, in.dy),
                                          testing::as_doubles(one.dw)),
            1e-5);
}

// One plan serves every batch size of its shape (training, an epoch's last batch, validation):
// each gets its own chunk primitives, and results match the direct loops whichever came first.
TEST(Conv2dOnednn, OnePlanServesEveryBatchSize) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  kernels::Conv2dCache cache;
  std::shared_ptr<kernels::onednn::ConvolutionPlan> first;
  for (std::int64_t batch : {20, 7, 1, 20, 9, 64, 33, 2, 20}) {
    const Case c{{batch, 4, 8, 8}, 6, conv_window(3, 3, 1, 1, 1, 1)};
    SCOPED_TRACE(c.input.str());
    const Inputs in = draw(c, DType::Float32, static_cast<std::uint64_t>(batch));
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    kernels::Conv2dSaved saved;
    const Tensor y = kernels::conv2d_forward(in.x, in.weight, g, Conv2dPath::Onednn, cache, &saved);
    const kernels::Conv2dGradients grads = kernels::conv2d_backward(in.dy, in.weight, saved, cache);
    if (!first) first = cache.onednn_plan;
    EXPECT_EQ(cache.onednn_plan, first);
    const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
    EXPECT_LE(testing::max_normalized_error(direct.forward(in.x, in.weight, Tensor()),
                                            testing::as_doubles(y)),
              1e-5);
    EXPECT_LE(testing::max_normalized_error(direct.backward_data(in.dy, in.weight),
                                            testing::as_doubles(grads.input)),
              1e-5);
    EXPECT_LE(testing::max_normalized_error(direct.backward_filter(in.x, in.dy),
                                            testing::as_doubles(grads.weight)),
              1e-5);
  }
}

// oneDNN's Winograd kernels are AVX-512 code; on other machines the OnednnWinograd path runs
// oneDNN's direct kernels instead.
bool machine_has_winograd_kernels() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

Case winograd_case(std::int64_t batch, std::int64_t channels, std::int64_t size,
                   std::int64_t out_channels) {
  return {{batch, channels, size, size}, out_channels, conv_window(3, 3, 1, 1, 1, 1)};
}

TEST(Conv2dWinograd, RuleTakesItForWideLayersOnLargeMapsAndOnlyFor3x3StrideOne) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  const auto path = [](kernels::ConvAlgorithm requested, const Case& c) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    return kernels::choose_conv2d_path(requested, g, c.out_channels, Tensor::zeros(c.input));
  };
  using kernels::ConvAlgorithm;
  // Auto: Winograd where it measured faster, oneDNN's direct kernels where it did not.
  for (const Case& c : {winograd_case(64, 32, 28, 32), winograd_case(64, 64, 14, 64),
                        winograd_case(8, 64, 56, 64), winograd_case(2, 128, 14, 256)}) {
    SCOPED_TRACE(c.input.str() + " -> " + std::to_string(c.out_channels));
    EXPECT_EQ(path(ConvAlgorithm::Auto, c), Conv2dPath::OnednnWinograd);
    EXPECT_EQ(path(ConvAlgorithm::Winograd, c), Conv2dPath::OnednnWinograd);
    EXPECT_EQ(path(ConvAlgorithm::Onednn, c), Conv2dPath::Onednn);
    EXPECT_NE(path(ConvAlgorithm::Im2col, c), Conv2dPath::OnednnWinograd);
  }
  for (const Case& c : {winograd_case(64, 16, 28, 16), winograd_case(64, 32, 14, 32),
                        winograd_case(64, 32, 14, 64), winograd_case(64, 128, 7, 128),
                        winograd_case(64, 256, 7, 256), winograd_case(64, 64, 28, 16)}) {
    SCOPED_TRACE(c.input.str() + " -> " + std::to_string(c.out_channels));
    EXPECT_EQ(path(ConvAlgorithm::Auto, c), Conv2dPath::Onednn);
    EXPECT_EQ(path(ConvAlgorithm::Winograd, c), Conv2dPath::OnednnWinograd);
  }
  // Other windows never take it, even when asked: stride 2, 5x5, 1x1, dilation.
  for (const kernels::ConvWindow& w : {conv_window(3, 3, 2, 2, 1, 1), conv_window(5, 5, 1, 1, 2, 2),
                                       conv_window(1, 1), conv_window(3, 3, 1, 1, 2, 2, 2, 2)}) {
    const Case c{{64, 64, 28, 28}, 64, w};
    SCOPED_TRACE(kernels::describe(w));
    EXPECT_EQ(path(ConvAlgorithm::Winograd, c), Conv2dPath::Onednn);
    EXPECT_NE(path(ConvAlgorithm::Auto, c), Conv2dPath::OnednnWinograd);
  }
  // float64 has no oneDNN path at all.
  const Case c = winograd_case(64, 64, 28, 64);
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  EXPECT_EQ(kernels::choose_conv2d_path(ConvAlgorithm::Winograd, g, c.out_channels,
                                        Tensor::zeros(c.input, DType::Float64)),
            Conv2dPath::PerImage);
}

// Winograd's own cases: odd channel counts and map sizes (partial 4x4 tiles), padding 0 and 1,
// a batch of one and one of 13 (chunks of 2 and a last of 1), the catalog's shapes where Auto
// takes it; and padding 2, for which oneDNN has no Winograd kernel (the direct ones run).
// Winograd's rounding differs from direct summation (each output is a sum of transformed
// products), so the bound is 2e-5 of the largest value instead of 1e-5.
struct WinogradCase {
  Case shape;
  bool has_winograd_kernel;
};

std::vector<WinogradCase> winograd_cases() {
  return {
      {winograd_case(2, 32, 28, 32), true},
      {winograd_case(4, 64, 14, 64), true},
      {{{3, 5, 9, 7}, 7, conv_window(3, 3)}, true},
      {{{1, 16, 11, 13}, 24, conv_window(3, 3, 1, 1, 1, 1)}, true},
      {{{13, 16, 7, 10}, 16, conv_window(3, 3, 1, 1, 1, 0)}, true},
      {{{2, 48, 15, 15}, 40, conv_window(3, 3, 1, 1, 2, 2)}, false},
  };
}

TEST(Conv2dWinograd, MatchesDirectConvolutionAndNamesItsKernels) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const auto& [c, has_winograd_kernel] : winograd_cases()) {
    check_against_direct(c, Conv2dPath::OnednnWinograd, DType::Float32, 2e-5);
    const Inputs in = draw(c, DType::Float32, 5);
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    kernels::Conv2dCache cache;
    kernels::Conv2dSaved saved;
    kernels::conv2d_forward(in.x, in.weight, g, Conv2dPath::OnednnWinograd, cache, &saved);
    kernels::conv2d_backward(in.dy, in.weight, saved, cache);
    EXPECT_TRUE(kernels::onednn::plan_matches(*cache.onednn_plan, g, c.out_channels, true));
    EXPECT_FALSE(kernels::onednn::plan_matches(*cache.onednn_plan, g, c.out_channels, false));
    // The checks above are worth something only where Winograd kernels ran: on an AVX-512
    // machine, in all three passes of every case but the last.
    const std::string used = kernels::onednn::describe(*cache.onednn_plan);
    std::size_t winograd_passes = 0;
    for (std::size_t at = used.find("jit_wino"); at != std::string::npos;
         at = used.find("jit_wino", at + 1))
      ++winograd_passes;
    EXPECT_EQ(winograd_passes, has_winograd_kernel && machine_has_winograd_kernels() ? 3u : 0u)
        << c.input.str() << ": " << used;
  }
}

// Central differences as for the direct kernels, on shapes that run Winograd kernels on AVX-512
// machines (MatchesDirectConvolutionAndNamesItsKernels: padding 0 and 1, odd channel counts).
TEST(Conv2dWinograd, GradientsMatchCentralDifferences) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const Case& c : {Case{{3, 5, 7, 9}, 4, conv_window(3, 3, 1, 1, 1, 1)},
                        Case{{2, 16, 6, 6}, 16, conv_window(3, 3)}})
    expect_gradients_match_central_differences(c, Conv2dPath::OnednnWinograd);
}

// The same chunks as oneDNN's direct kernels: the same bits from run to run and at 1, 2 and 3
// threads, for a batch of 64 (8 chunks of 8) and one of 13.
TEST(Conv2dWinograd, SameBitsFromRunToRunAndForAnyThreadCountUpToTheChunkCount) {
  if (!kernels::onednn::available()) GTEST_SKIP() << "this build has no oneDNN";
  for (const Case& c : {winograd_case(64, 32, 14, 32), winograd_case(13, 16, 9, 32)}) {
    SCOPED_TRACE(c.input.str());
    expect_same_bits_at_any_thread_count(c, draw(c, DType::Float32, 29),
                                         Conv2dPath::OnednnWinograd);
  }
}

// A first layer's backward skips dx (its input is data): dW comes out the same bits, dx
// undefined, on every CPU path.
TEST(Conv2dCpu, WithoutTheInputGradientDwIsUnchangedAndDxUndefined) {
  const Case c{{9, 4, 10, 10}, 8, conv_window(3, 3, 1, 1, 1, 1)};
  const Inputs in = draw(c, DType::Float32, 13);
  const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
  std::vector<Conv2dPath> paths = {Conv2dPath::PerImage, Conv2dPath::BatchedColumns};
  if (kernels::onednn::available()) paths.push_back(Conv2dPath::Onednn);
  for (Conv2dPath path : paths) {
    SCOPED_TRACE(kernels::conv2d_path_name(path));
    const Result full = run(c, in, path);
    kernels::Conv2dCache cache;
    kernels::Conv2dSaved saved;
    kernels::conv2d_forward(in.x, in.weight, g, path, cache, &saved);
    const kernels::Conv2dGradients grads =
        kernels::conv2d_backward(in.dy, in.weight, saved, cache, /*input_gradient=*/false);
    EXPECT_FALSE(grads.input.defined());
    ASSERT_TRUE(grads.weight.defined());
    EXPECT_TRUE(bitwise_equal(grads.weight, full.dw));
  }
}

// The Direct path (one input channel, stride 1, no dilation): the catalog's first layers and the
// kernels' edges: maps of 1 to 70 columns (one partial vector, whole and partial 32-column
// blocks), output channels that fill whole tiles or leave single channels over, kernels of 1x1
// to 7 taps wide (one or two passes of weight-gradient taps), padding on one axis only, a batch
// of one. dx comes from the per-image GEMM and col2im, as on PerImage.
std::vector<Case> direct_cases() {
  return {
      {{100, 1, 28, 28}, 6, conv_window(5, 5, 1, 1, 2, 2)},  // LeNet-5
      {{9, 1, 28, 28}, 30, conv_window(5, 5)},               // SimpleConvNet: 24 columns
      {{5, 1, 28, 28}, 16, conv_window(3, 3, 1, 1, 1, 1)},   // DeepConvNet
      {{3, 1, 6, 74}, 13, conv_window(3, 5)},                // 70 columns: 2 blocks + 6
      {{2, 1, 5, 3}, 4, conv_window(3, 3)},                  // a 3x1 map
      {{4, 1, 9, 12}, 7, conv_window(2, 7, 1, 1, 3, 1)},     // 7 taps wide, padding 3x1
      {{3, 1, 8, 9}, 5, conv_window(1, 1)},                  // 1x1
      {{1, 1, 17, 41}, 1, conv_window(4, 4, 1, 1, 0, 2)},    // one image, one channel
  };
}

TEST(Conv2dDirect, RuleTakesItForFloat32SingleChannelStrideOneUnlessIm2colIsAsked) {
  for (const Case& c : direct_cases()) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    SCOPED_TRACE(c.input.str() + " " + kernels::describe(c.window));
    EXPECT_EQ(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Auto, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              Conv2dPath::Direct);
    EXPECT_NE(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Im2col, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              Conv2dPath::Direct);
    EXPECT_NE(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Auto, g, c.out_channels,
                                          Tensor::zeros(c.input, DType::Float64)),
              Conv2dPath::Direct);
  }
  for (const Case& c : {Case{{2, 1, 28, 28}, 6, conv_window(5, 5, 2, 2)},              // stride 2
                        Case{{2, 1, 28, 28}, 6, conv_window(3, 3, 1, 1, 0, 0, 2, 2)},  // dilated
                        Case{{2, 2, 28, 28}, 6, conv_window(5, 5)}}) {  // two channels
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    EXPECT_NE(kernels::choose_conv2d_path(kernels::ConvAlgorithm::Auto, g, c.out_channels,
                                          Tensor::zeros(c.input)),
              Conv2dPath::Direct)
        << c.input.str() << " " << kernels::describe(c.window);
  }
}

TEST(Conv2dDirect, MatchesDirectConvolutionLoops) {
  for (const Case& c : direct_cases())
    check_against_direct(c, Conv2dPath::Direct, DType::Float32, 1e-5);
}

// On AVX-512 CPUs the Direct path runs two output channels per 16-float register; every lane
// does what the 8-float kernels' lane does, so y (with and without a bias) and dW must be the
// same bits: on every case (odd channel counts leave one channel to the 8-float code, maps of 1
// to 70 columns end in partial vectors), summed over the images as the path sums them.
TEST(Conv2dDirect, SixteenFloatKernelsGiveTheBitsOfTheEightFloatOnes) {
  if (!kernels::cpu::direct_conv2d_has_wide_kernels())
    GTEST_SKIP() << "this CPU has no AVX-512: only the 8-float kernels run here";
  using kernels::cpu::DirectWidth;
  for (const Case& c : direct_cases()) {
    SCOPED_TRACE(c.input.str() + " -> " + std::to_string(c.out_channels));
    const Inputs in = draw(c, DType::Float32, 53);
    Generator gen(54);
    const Tensor bias = Tensor::empty({c.out_channels}, DType::Float32).uniform_(gen, -2.0, 2.0);
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    kernels::ConvGeometry one_image = g;
    one_image.batch = 1;
    const std::int64_t image_in = g.height * g.width,
                       image_out = c.out_channels * g.out_h * g.out_w;
    std::vector<float> scratch(static_cast<std::size_t>(
        kernels::cpu::direct_conv2d_scratch_elements(one_image, c.out_channels)));
    const auto outputs = [&](DirectWidth width, const float* b) {
      Tensor y = Tensor::empty({g.batch, c.out_channels, g.out_h, g.out_w});
      Tensor dw = Tensor::empty(in.weight.shape());
      for (std::int64_t n = 0; n < g.batch; ++n) {
        kernels::cpu::direct_conv2d_forward_image(
            one_image, c.out_channels, in.x.data<float>() + n * image_in, in.weight.data<float>(),
            b, y.data<float>() + n * image_out, scratch.data(), width);
        kernels::cpu::direct_conv2d_weight_grad_image(
            one_image, c.out_channels, in.x.data<float>() + n * image_in,
            in.dy.data<float>() + n * image_out, dw.data<float>(), n > 0, scratch.data(), width);
      }
      return std::make_pair(y, dw);
    };
    const float* with_bias = bias.data<float>();
    for (const float* b : {static_cast<const float*>(nullptr), with_bias}) {
      const auto eight = outputs(DirectWidth::EightLanes, b);
      const auto wide = outputs(DirectWidth::Widest, b);
      EXPECT_TRUE(bitwise_equal(eight.first, wide.first)) << (b ? "with" : "without") << " bias";
      EXPECT_TRUE(bitwise_equal(eight.second, wide.second));
    }
  }
}

// conv2d_forward's bias: inside the Direct path's sums (each starts from its channel's bias), a
// separate pass on the others; both against the direct loops with the bias.
TEST(Conv2dDirect, BiasStartsTheSums) {
  for (const Case& c : {direct_cases()[1], direct_cases()[3]}) {
    SCOPED_TRACE(c.input.str());
    const Inputs in = draw(c, DType::Float32, 41);
    Generator gen(42);
    const Tensor bias = Tensor::empty({c.out_channels}, DType::Float32).uniform_(gen, -2.0, 2.0);
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
    const std::vector<double> expected = direct.forward(in.x, in.weight, bias);
    for (Conv2dPath path : {Conv2dPath::Direct, Conv2dPath::PerImage}) {
      kernels::Conv2dCache cache;
      const Tensor y = kernels::conv2d_forward(in.x, in.weight, g, path, cache, nullptr, &bias);
      EXPECT_LE(testing::max_normalized_error(expected, testing::as_doubles(y)), 1e-5)
          << kernels::conv2d_path_name(path);
    }
  }
}

// y sums the taps in row-major order, dW in another fixed order: the same bits at any thread
// count, dW also without dx.
TEST(Conv2dDirect, SameBitsForAnyThreadCountAndWithoutTheInputGradient) {
  for (const Case& c : {direct_cases()[0], direct_cases()[1]}) {
    SCOPED_TRACE(c.input.str());
    const Inputs in = draw(c, DType::Float32, 31);
    const Result one = expect_same_bits_at_any_thread_count(c, in, Conv2dPath::Direct);
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    kernels::Conv2dCache cache;
    kernels::Conv2dSaved saved;
    kernels::conv2d_forward(in.x, in.weight, g, Conv2dPath::Direct, cache, &saved);
    const kernels::Conv2dGradients grads =
        kernels::conv2d_backward(in.dy, in.weight, saved, cache, /*input_gradient=*/false);
    EXPECT_FALSE(grads.input.defined());
    EXPECT_TRUE(bitwise_equal(grads.weight, one.dw));
  }
}

TEST(Conv2dCpu, PerImagePathIsBitIdenticalForAnyThreadCount) {
  const Case lenet{{100, 6, 14, 14}, 16, conv_window(5, 5)};
  expect_same_bits_at_any_thread_count(lenet, draw(lenet, DType::Float32, 9), Conv2dPath::PerImage);
}

// The per-image path caps its dW partials like the oneDNN path: 16 chunks for small weights,
// halved while the partials would pass 32 MB, and the same bits at any thread count.
TEST(Conv2dCpu, PerImageLargeWeightsTakeFewerChunksWithTheSameBits) {
  const auto chunks = [](std::vector<std::int64_t> input, std::int64_t out, DType dtype) {
    const kernels::ConvGeometry g =
        kernels::conv_geometry("test", Shape(input), conv_window(3, 3, 1, 1, 1, 1));
    return kernels::cpu::PerImageConv2d(g, out, dtype_size(dtype)).chunks;
  };
  EXPECT_EQ(chunks({64, 64, 8, 8}, 64, DType::Float32), 16);
  EXPECT_EQ(chunks({5, 64, 8, 8}, 64, DType::Float32), 5);
  EXPECT_EQ(chunks({64, 512, 4, 4}, 256, DType::Float32), 4);  // 4.7 MB of dW each
  EXPECT_EQ(chunks({64, 512, 4, 4}, 256, DType::Float64), 2);
  EXPECT_EQ(chunks({64, 512, 4, 4}, 512, DType::Float32), 2);  // 9.4 MB: ResNet-18's last stage
  EXPECT_EQ(chunks({64, 512, 4, 4}, 512, DType::Float64), 1);

  const Case c{{8, 512, 4, 4}, 256, conv_window(3, 3, 1, 1, 1, 1)};
  const Inputs in = draw(c, DType::Float32, 29);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Result one = run(c, in, Conv2dPath::PerImage);
  for (int t : {2, 3}) {
    omp_set_num_threads(t);
    const Result many = run(c, in, Conv2dPath::PerImage);
    EXPECT_TRUE(bitwise_equal(one.dx, many.dx)) << t << " threads";
    EXPECT_TRUE(bitwise_equal(one.dw, many.dw)) << t << " threads";
  }
  omp_set_num_threads(threads);
  const testing::DirectConvolution direct(c.input, c.out_channels, c.window);
  EXPECT_LE(testing::max_normalized_error(direct.backward_filter(in.x, in.dy),
                                          testing::as_doubles(one.dw)),
            1e-5);
}

// The convolution pooled image by image gives the bits of the convolution and then the pool, on
// every path, with and without bias, at any thread count; in training, also the pool's argmax
// and the convolution's gradients.
TEST(Conv2dCpu, MaxPooledForwardIsTheConvolutionThenThePoolBitForBit) {
  struct Pooled {
    Case conv;
    kernels::PoolWindow pool;
  };
  const std::vector<Pooled> cases = {
      {{{100, 1, 28, 28}, 30, conv_window(5, 5)}, {2, 2, 2, 2}},             // SimpleConvNet
      {{{7, 1, 13, 15}, 6, conv_window(5, 5, 1, 1, 2, 2)}, {2, 2, 2, 2}},    // odd maps
      {{{7, 6, 14, 14}, 16, conv_window(5, 5)}, {3, 3, 2, 2, 1, 1}},         // 3x3 s2 p1
      {{{3, 4, 9, 7}, 5, conv_window(1, 1)}, {2, 2, 2, 2}},                  // pointwise
      {{{2, 128, 4, 4}, 128, conv_window(3, 3, 1, 1, 1, 1)}, {2, 2, 2, 2}},  // batched
  };
  const int threads = omp_get_max_threads();
  for (const Pooled& c : cases) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.conv.input, c.conv.window);
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Inputs in = draw(c.conv, dtype, 31);
      Generator gen(37);
      const Tensor bias = Tensor::empty({c.conv.out_channels}, dtype).uniform_(gen, -0.5, 0.5);
      std::vector<Conv2dPath> paths = {Conv2dPath::PerImage, Conv2dPath::BatchedColumns};
      if (dtype == DType::Float32 && c.conv.input[1] == 1) paths.push_back(Conv2dPath::Direct);
      if (dtype == DType::Float32 && kernels::onednn::available())
        paths.push_back(Conv2dPath::Onednn);
      for (Conv2dPath path : paths)
        for (const Tensor* b : {&bias, static_cast<const Tensor*>(nullptr)})
          for (int t : {1, 2, 3}) {
            SCOPED_TRACE(c.conv.input.str() + " " + kernels::conv2d_path_name(path) + " " +
                         dtype_name(dtype) + (b ? " bias " : " ") + std::to_string(t) + " threads");
            omp_set_num_threads(t);
            kernels::Conv2dCache cache;
            const Tensor expected = kernels::max_pool_forward(
                kernels::conv2d_forward(in.x, in.weight, g, path, cache, nullptr, b), c.pool,
                nullptr);
            const Tensor pooled =
                kernels::conv2d_forward_fused(in.x, in.weight, g, path, cache, b, nullptr, &c.pool);
            EXPECT_TRUE(bitwise_equal(expected, pooled));

            // Training: the pool's argmax and the convolution's saved state, then backward.
            kernels::Conv2dSaved saved, fused_saved;
            Tensor argmax, fused_argmax;
            const Tensor trained = kernels::max_pool_forward(
                kernels::conv2d_forward(in.x, in.weight, g, path, cache, &saved, b), c.pool,
                &argmax);
            const Tensor fused_trained = kernels::conv2d_forward_fused(
                in.x, in.weight, g, path, cache, b, nullptr, &c.pool, &fused_saved, &fused_argmax);
            EXPECT_TRUE(bitwise_equal(trained, fused_trained));
            EXPECT_EQ(argmax.to_vector<std::int32_t>(), fused_argmax.to_vector<std::int32_t>());
            Tensor dy = Tensor::empty(trained.shape(), dtype);
            Generator dy_gen(41);
            dy.uniform_(dy_gen, -1.0, 1.0);
            const Shape conv_shape{g.batch, c.conv.out_channels, g.out_h, g.out_w};
            const Tensor dconv = kernels::max_pool_backward(dy, argmax, conv_shape, c.pool);
            const kernels::Conv2dGradients grads =
                kernels::conv2d_backward(dconv, in.weight, saved, cache);
            const kernels::Conv2dGradients fused_grads =
                kernels::conv2d_backward(dconv, in.weight, fused_saved, cache);
            EXPECT_TRUE(bitwise_equal(grads.weight, fused_grads.weight));
            EXPECT_TRUE(bitwise_equal(grads.input, fused_grads.input));
          }
    }
  }
  omp_set_num_threads(threads);
}

// The convolution with a BatchNorm (running statistics), a ReLU and a max-pool applied as it is
// made gives the bits of the layers run one after the other, on every path (oneDNN: chunk by
// chunk, a batch of 13 leaving a short last chunk), with and without bias and pool, at any thread
// count.
TEST(Conv2dCpu, ForwardFusedIsTheConvolutionThenTheLayersBitForBit) {
  const std::vector<Case> cases = {
      {{13, 16, 9, 9}, 24, conv_window(3, 3, 1, 1, 1, 1)},
      {{7, 1, 13, 15}, 6, conv_window(5, 5, 1, 1, 2, 2)},
      {{3, 4, 9, 7}, 5, conv_window(1, 1)},
  };
  const int threads = omp_get_max_threads();
  for (const Case& c : cases) {
    const kernels::ConvGeometry g = kernels::conv_geometry("test", c.input, c.window);
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Inputs in = draw(c, dtype, 41);
      Generator gen(43);
      const auto per_channel = [&](double low, double high) {
        return Tensor::empty({c.out_channels}, dtype).uniform_(gen, low, high);
      };
      const Tensor bias = per_channel(-0.5, 0.5);
      kernels::ChannelEpilogue normalize;
      normalize.gamma = per_channel(0.5, 1.5);
      normalize.beta = per_channel(-0.5, 0.5);
      normalize.mean = per_channel(-0.5, 0.5);
      normalize.var = per_channel(0.1, 2.0);
      normalize.eps = 1e-5;
      kernels::ChannelEpilogue normalize_relu = normalize, relu;
      normalize_relu.relu = relu.relu = true;
      const kernels::PoolWindow pool{2, 2, 2, 2};
      std::vector<Conv2dPath> paths = {Conv2dPath::PerImage, Conv2dPath::BatchedColumns};
      if (dtype == DType::Float32 && c.input[1] == 1) paths.push_back(Conv2dPath::Direct);
      if (dtype == DType::Float32 && kernels::onednn::available())
        paths.push_back(Conv2dPath::Onednn);
      for (Conv2dPath path : paths)
        for (const Tensor* b : {&bias, static_cast<const Tensor*>(nullptr)})
          for (const kernels::ChannelEpilogue* e : {&normalize, &normalize_relu, &relu})
            for (const kernels::PoolWindow* p :
                 {&pool, static_cast<const kernels::PoolWindow*>(nullptr)})
              for (int t : {1, 2, 3}) {
                SCOPED_TRACE(c.input.str() + " " + kernels::conv2d_path_name(path) + " " +
                             dtype_name(dtype) + (b ? " bias" : "") +
                             (e->normalizes() ? " batchnorm" : "") + (e->relu ? " relu" : "") +
                             (p ? " pool " : " ") + std::to_string(t) + " threads");
                omp_set_num_threads(t);
                kernels::Conv2dCache cache;
                Tensor expected =
                    kernels::conv2d_forward(in.x, in.weight, g, path, cache, nullptr, b);
                if (e->normalizes())
                  expected = kernels::batch_norm_inference_forward(expected, e->gamma, e->beta,
                                                                   e->mean, e->var, e->eps);
                if (e->relu) expected = kernels::relu_forward(expected, nullptr);
                if (p) expected = kernels::max_pool_forward(expected, *p, nullptr);
                const Tensor fused =
                    kernels::conv2d_forward_fused(in.x, in.weight, g, path, cache, b, e, p);
                EXPECT_TRUE(bitwise_equal(expected, fused));
              }
    }
  }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace dlfs
