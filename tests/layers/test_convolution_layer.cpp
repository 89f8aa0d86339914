#include <gtest/gtest.h>

#include <cstdlib>

#include "dlfs/kernels/cpu/onednn_conv2d.hpp"
#include "dlfs/layers/convolution.hpp"
#include "support/conv_reference.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

using kernels::ConvWindow;
using testing::conv_window;

using testing::ConvCase;

// Odd sizes everywhere (support/conv_reference.hpp).
std::vector<ConvCase> odd_cases() {
  return testing::odd_conv_cases();
}

// A layer for `c` with N(0, 1) parameters (float32 on the CPU).
std::unique_ptr<Convolution> make_layer(const ConvCase& c, Generator& gen, bool bias = true) {
  auto layer = std::make_unique<Convolution>(c.input[1], c.out_channels, c.window, bias);
  testing::randomize_parameters(*layer, gen);
  return layer;
}

// The layer's bias, or an undefined tensor.
Tensor bias_of(Convolution& layer) {
  for (Parameter* p : layer.parameters())
    if (p->name == "bias") return p->value;
  return Tensor();
}

// Copies parameter values (any device, same dtype) from one layer into another of one shape.
void copy_parameters(Convolution& from, Convolution& to) {
  std::vector<Parameter*> a = from.parameters(), b = to.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) b[k]->value = a[k]->value.to(b[k]->value.device());
}

Tensor random_float(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  t.normal_(gen);
  return t;
}

// ---- Construction and shapes --------------------------------------------------------------------

TEST(ConvolutionLayer, ParametersHavePyTorchNamesShapesAndStartAtZero) {
  Convolution layer(3, 16, 5, 3, 2, 1);
  std::vector<Parameter*> params = layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0]->name, "weight");
  EXPECT_EQ(params[0]->value.shape(), Shape({16, 3, 5, 3}));
  EXPECT_EQ(params[1]->name, "bias");
  EXPECT_EQ(params[1]->value.shape(), Shape({16}));
  for (Parameter* p : params) {
    EXPECT_EQ(p->value.dtype(), DType::Float32);
    EXPECT_TRUE(p->value.device().is_cpu());
    for (float v : p->value.to_vector<float>()) ASSERT_EQ(v, 0.0f);
  }
  EXPECT_EQ(layer.window().stride_h, 2);
  EXPECT_EQ(layer.window().pad_w, 1);
}

TEST(ConvolutionLayer, WithoutBiasHasOnlyTheWeight) {
  Convolution layer(2, 4, 3, 3, 1, 1, /*bias=*/false);
  ASSERT_EQ(layer.parameters().size(), 1u);
  EXPECT_EQ(layer.parameters()[0]->name, "weight");
  EXPECT_EQ(layer.describe(), "2->4, k3 s1 p1, no bias");
}

TEST(ConvolutionLayer, DescribeAndOutputShape) {
  Convolution square(3, 16, 3, 3, 1, 1);
  EXPECT_EQ(square.type(), "Convolution");
  EXPECT_EQ(square.describe(), "3->16, k3 s1 p1");
  EXPECT_EQ(square.output_shape({8, 3, 32, 32}), Shape({8, 16, 32, 32}));
  Convolution odd(3, 4, conv_window(3, 5, 2, 1, 0, 2, 2, 1));
  EXPECT_EQ(odd.describe(), "3->4, k3x5 s2x1 p0x2 d2x1");
  // (11 - 5) / 2 + 1 = 4 rows; (6 + 4 - 5) / 1 + 1 = 6 columns.
  EXPECT_EQ(odd.output_shape({2, 3, 11, 6}), Shape({2, 4, 4, 6}));
}

TEST(ConvolutionLayer, KernelThatDoesNotFitThrowsAClearMessage) {
  Convolution layer(1, 2, 5, 5);
  try {
    layer.output_shape({1, 1, 3, 3});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Convolution: kernel 5x5 with padding 0 does not fit input 3x3");
  }
  EXPECT_THROW(layer.forward({Tensor::zeros({1, 1, 3, 3})}, Mode::Train), Error);
}

TEST(ConvolutionLayer, BadInputsAndWindowsThrow) {
  Convolution layer(3, 2, 3, 3);
  EXPECT_THROW(layer.forward({Tensor::zeros({1, 4, 5, 5})}, Mode::Train), Error);  // channels
  EXPECT_THROW(layer.forward({Tensor::zeros({3, 5, 5})}, Mode::Train), Error);     // rank
  EXPECT_THROW(layer.forward({Tensor::zeros({1, 3, 5, 5}, DType::Float64)}, Mode::Train), Error);
  EXPECT_THROW(Convolution(3, 2, 3, 3, /*stride=*/0), Error);
  EXPECT_THROW(Convolution(3, 2, 0, 3), Error);
  EXPECT_THROW(Convolution(0, 2, 3, 3), Error);
}

// ---- Values -------------------------------------------------------------------------------------

TEST(ConvolutionLayer, HandComputedForward) {
  // 1 2 3
  // 4 5 6  * all-one 2x2 kernel + 10  =  12+10 16+10
  // 7 8 9                                24+10 28+10
  Convolution layer(1, 1, 2, 2);
  layer.parameters()[0]->value.fill_(1.0);
  layer.parameters()[1]->value.fill_(10.0);
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor y = layer.forward({x}, Mode::Inference);
  ASSERT_EQ(y.shape(), Shape({1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({22, 26, 34, 38}));
}

TEST(ConvolutionLayer, HandComputedBackward) {
  // Same layer; dy = 1 everywhere: dx counts the windows covering each pixel, dW sums the
  // pixels each tap saw (1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9), db = 4.
  Convolution layer(1, 1, 2, 2);
  layer.parameters()[0]->value.fill_(1.0);
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  layer.forward({x}, Mode::Train);
  std::vector<Tensor> dx = layer.backward(Tensor::full({1, 1, 2, 2}, 1.0));
  ASSERT_EQ(dx.size(), 1u);
  EXPECT_EQ(dx[0].to_vector<float>(), std::vector<float>({1, 2, 1, 2, 4, 2, 1, 2, 1}));
  EXPECT_EQ(layer.parameters()[0]->grad.to_vector<float>(), std::vector<float>({12, 16, 24, 28}));
  EXPECT_EQ(layer.parameters()[1]->grad.to_vector<float>(), std::vector<float>({4}));
}

TEST(ConvolutionLayer, ForwardMatchesDirectLoopsOnOddShapes) {
  Generator gen(21);
  for (const ConvCase& c : odd_cases()) {
    for (bool bias : {true, false}) {
      auto layer = make_layer(c, gen, bias);
      Tensor x = random_float(c.input, gen);
      testing::DirectConvolution direct(c.input, c.out_channels, c.window);
      const std::vector<double> expected =
          direct.forward(x, layer->parameters()[0]->value, bias_of(*layer));
      // float32: sums of at most 5*9 products in another order, ~1e-7 of the largest term.
      Tensor y = layer->forward({x}, Mode::Inference);
      ASSERT_EQ(y.shape(), direct.output_shape());
      EXPECT_LE(testing::max_normalized_error(expected, testing::as_doubles(y)), 1e-6)
          << c.input.str() << " " << kernels::describe(c.window);
      // float64: the same sums, agreeing to rounding.
      layer->to(DType::Float64);
      Tensor y64 = layer->forward({x.to(DType::Float64)}, Mode::Inference);
      EXPECT_LE(testing::max_normalized_error(expected, testing::as_doubles(y64)), 1e-14)
          << c.input.str() << " " << kernels::describe(c.window);
    }
  }
}

TEST(ConvolutionLayer, BackwardMatchesDirectLoopsOnOddShapes) {
  Generator gen(22);
  for (const ConvCase& c : odd_cases()) {
    auto layer = make_layer(c, gen);
    Tensor x = random_float(c.input, gen);
    testing::DirectConvolution direct(c.input, c.out_channels, c.window);
    Tensor dy = random_float(direct.output_shape(), gen);
    const Tensor& w = layer->parameters()[0]->value;
    layer->forward({x}, Mode::Train);
    std::vector<Tensor> dx = layer->backward(dy);
    ASSERT_EQ(dx.size(), 1u);
    ASSERT_EQ(dx[0].shape(), c.input);
    EXPECT_LE(
        testing::max_normalized_error(direct.backward_data(dy, w), testing::as_doubles(dx[0])),
        1e-6)
        << c.input.str() << " " << kernels::describe(c.window);
    const Tensor& dw = layer->parameters()[0]->grad;
    ASSERT_EQ(dw.shape(), w.shape());
    EXPECT_LE(testing::max_normalized_error(direct.backward_filter(x, dy), testing::as_doubles(dw)),
              1e-6)
        << c.input.str() << " " << kernels::describe(c.window);
  }
}

TEST(ConvolutionLayer, BackwardOverwritesGradients) {
  Generator gen(23);
  ConvCase c{{2, 3, 5, 5}, 2, conv_window(3, 3, 1, 1, 1, 1)};
  auto layer = make_layer(c, gen);
  Tensor x = random_float(c.input, gen);
  Tensor dy = random_float({2, 2, 5, 5}, gen);
  std::vector<std::vector<float>> first;
  for (int round = 0; round < 2; ++round) {
    layer->forward({x}, Mode::Train);
    layer->backward(dy);
    for (std::size_t k = 0; k < layer->parameters().size(); ++k) {
      const std::vector<float> g = layer->parameters()[k]->grad.to_vector<float>();
      if (round == 0)
        first.push_back(g);
      else
        EXPECT_EQ(g, first[k]) << layer->parameters()[k]->name << " accumulated";
    }
  }
}

TEST(ConvolutionLayer, InferenceKeepsNothingForBackward) {
  Convolution layer(1, 1, 1, 1);
  layer.forward({Tensor::zeros({1, 1, 2, 2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 1, 2, 2})), Error);
  layer.forward({Tensor::zeros({1, 1, 2, 2})}, Mode::Train);
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 1, 3, 2})), Error);  // wrong gradient shape
}

TEST(ConvolutionLayer, CudnnRequestedOnTheCpuRunsWhatAutoRuns) {
  Generator gen(24);
  ConvCase c{{2, 5, 6, 6}, 4, conv_window(3, 3, 1, 1, 1, 1)};  // Auto's rule takes oneDNN here
  auto layer = make_layer(c, gen);
  layer->set_algorithm(ConvAlgorithm::Auto);
  Tensor x = random_float(c.input, gen);
  Tensor expected = layer->forward({x}, Mode::Inference);
  const ConvAlgorithm automatic =
      kernels::onednn::available() ? ConvAlgorithm::Onednn : ConvAlgorithm::Im2col;
  EXPECT_EQ(layer->last_algorithm(), automatic);
  layer->set_algorithm(ConvAlgorithm::Cudnn);
  EXPECT_EQ(layer->algorithm(), ConvAlgorithm::Cudnn);
  Tensor y = layer->forward({x}, Mode::Inference);
  EXPECT_EQ(layer->last_algorithm(), automatic);
  EXPECT_EQ(y.to_vector<float>(), expected.to_vector<float>());
  // Im2col keeps the CPU on dlfs's own kernels; float64 never goes to oneDNN.
  layer->set_algorithm(ConvAlgorithm::Im2col);
  layer->forward({x}, Mode::Inference);
  EXPECT_EQ(layer->last_algorithm(), ConvAlgorithm::Im2col);
  layer->set_algorithm(ConvAlgorithm::Onednn);
  layer->to(DType::Float64);
  layer->forward({x.to(DType::Float64)}, Mode::Inference);
  EXPECT_EQ(layer->last_algorithm(), ConvAlgorithm::Im2col);
}

// ---- Algorithm selection ------------------------------------------------------------------------

TEST(ConvAlgorithm, LayersTakeTheEnvironmentWhenBuiltUntilSetThemselves) {
  const char* saved = std::getenv("DLFS_CONV");
  const std::string saved_value = saved ? saved : "";
  setenv("DLFS_CONV", "cudnn", 1);
  Convolution follows(1, 1, 1, 1), own(1, 1, 1, 1);
  own.set_algorithm(ConvAlgorithm::Im2col);
  unsetenv("DLFS_CONV");
  EXPECT_EQ(follows.algorithm(), ConvAlgorithm::Cudnn);  // read when built, kept after
  EXPECT_EQ(own.algorithm(), ConvAlgorithm::Im2col);
  EXPECT_EQ(Convolution(1, 1, 1, 1).algorithm(), ConvAlgorithm::Auto);
  setenv("DLFS_CONV", "fft", 1);
  try {
    Convolution bad(1, 1, 1, 1);
    FAIL() << "a layer built under DLFS_CONV=fft";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("DLFS_CONV"), std::string::npos) << e.what();
  }
  if (saved)
    setenv("DLFS_CONV", saved_value.c_str(), 1);
  else
    unsetenv("DLFS_CONV");
}

// ---- Gradient checks (float64, central differences) ---------------------------------------------

void check_convolution_gradients(const ConvCase& c, bool bias = true) {
  Generator gen(31);
  auto layer = make_layer(c, gen, bias);
  const testing::GradCheckResult r =
      testing::check_gradients(*layer, {testing::random_tensor(c.input, gen)});
  EXPECT_GRADIENTS_MATCH(r);
  // Every input element and every parameter element was checked (nothing is skipped).
  std::size_t expected = static_cast<std::size_t>(c.input.numel());
  for (Parameter* p : layer->parameters()) expected += static_cast<std::size_t>(p->value.numel());
  EXPECT_EQ(r.checked, expected);
}

TEST(ConvolutionGradCheck, Batch3Channels5Stride2Pad1) {
  check_convolution_gradients({{3, 5, 7, 9}, 4, conv_window(3, 3, 2, 2, 1, 1)});
}

TEST(ConvolutionGradCheck, OneByOneKernel) {
  check_convolution_gradients({{2, 4, 5, 6}, 3, conv_window(1, 1)});
}

TEST(ConvolutionGradCheck, OneByOneKernelStride2) {
  check_convolution_gradients({{2, 3, 7, 6}, 2, conv_window(1, 1, 2, 2)});
}

TEST(ConvolutionGradCheck, KernelAsLargeAsTheInput) {
  check_convolution_gradients({{2, 3, 5, 4}, 3, conv_window(5, 4)});
}

TEST(ConvolutionGradCheck, BatchOfOne) {
  check_convolution_gradients({{1, 3, 6, 5}, 2, conv_window(3, 3, 1, 1, 1, 1)});
}

TEST(ConvolutionGradCheck, NonSquareKernelAndStride) {
  check_convolution_gradients({{2, 3, 8, 7}, 3, conv_window(3, 2, 2, 1, 1, 0)});
}

TEST(ConvolutionGradCheck, DilatedKernel) {
  check_convolution_gradients({{2, 2, 7, 8}, 2, conv_window(2, 3, 1, 2, 1, 2, 2, 3)});
}

TEST(ConvolutionGradCheck, WithoutBias) {
  check_convolution_gradients({{2, 3, 5, 5}, 2, conv_window(3, 3, 2, 2, 1, 1)}, false);
}

// ---- CPU/GPU equivalence ------------------------------------------------------------------------
// Tolerances are on max|a - b| / max|a| (testing::max_normalized_error): GEMMs that sum in
// another order differ by a few float32 ulps of the largest partial sums, i.e. ~1e-7 * sqrt(K)
// relative to the largest output for K terms, while a wrong index or a dropped term shows up as
// a whole term, >= 1e-2 of the largest output for these sizes.

// Forward and backward of `algorithm` on the GPU against the layer's own CPU path.
void expect_gpu_matches_cpu(const ConvCase& c, ConvAlgorithm algorithm, double tolerance,
                            std::uint64_t seed) {
  Generator gen(seed);
  auto cpu = make_layer(c, gen);
  Convolution gpu(c.input[1], c.out_channels, c.window);
  gpu.to(Device::cuda());
  copy_parameters(*cpu, gpu);
  gpu.set_algorithm(algorithm);
  cpu->set_algorithm(ConvAlgorithm::Im2col);

  Tensor x = random_float(c.input, gen);
  Tensor y = cpu->forward({x}, Mode::Train);
  Tensor yd = gpu.forward({x.to(Device::cuda())}, Mode::Train);
  ASSERT_TRUE(yd.device().is_cuda());
  EXPECT_EQ(gpu.last_algorithm(), algorithm);
  const std::string what =
      c.input.str() + " " + kernels::describe(c.window) + " " + conv_algorithm_name(algorithm);
  EXPECT_LE(testing::max_normalized_error(y, yd), tolerance) << "forward " << what;

  Tensor dy = random_float(y.shape(), gen);
  Tensor dx = cpu->backward(dy)[0];
  Tensor dxd = gpu.backward(dy.to(Device::cuda()))[0];
  EXPECT_LE(testing::max_normalized_error(dx, dxd), tolerance) << "input gradient " << what;
  std::vector<Parameter*> pc = cpu->parameters(), pg = gpu.parameters();
  for (std::size_t k = 0; k < pc.size(); ++k) {
    ASSERT_TRUE(pg[k]->grad.device().is_cuda());
    EXPECT_LE(testing::max_normalized_error(pc[k]->grad, pg[k]->grad), tolerance)
        << pc[k]->name << " gradient " << what;
  }
}

TEST(ConvolutionLayerGpu, Im2colForwardBackwardMatchCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  // Sums of K <= 45 terms (forward), <= 5 then <= 9 overlapping taps (input gradient), <= 70
  // (weight gradient): reordering error ~1e-7 * sqrt(K) < 1e-6, so 1e-5 is ample.
  std::uint64_t seed = 40;
  for (const ConvCase& c : odd_cases())
    expect_gpu_matches_cpu(c, ConvAlgorithm::Im2col, 1e-5, seed++);
}

TEST(ConvolutionLayerGpu, CudnnForwardBackwardMatchCpuOnOddShapes) {
  DLFS_REQUIRE_CUDNN();
  // cuDNN may pick FFT or Winograd algorithms, whose transforms add rounding of their own
  // (still float32 FMA: TF32 is excluded), up to ~1e-4; a wrong or missing term would move the
  // result by >= 1/sqrt(K) ~ 0.1 of the largest output here. Hence 1e-3.
  std::uint64_t seed = 50;
  for (const ConvCase& c : odd_cases())
    expect_gpu_matches_cpu(c, ConvAlgorithm::Cudnn, 1e-3, seed++);
}

TEST(ConvolutionLayerGpu, CudnnMatchesIm2colOnResNetShapes) {
  DLFS_REQUIRE_CUDNN();
  // Both on the GPU. K reaches 128*9 = 1152 (forward) and 8*56*56 = 25088 (weight gradient):
  // reordering error ~1e-7 * sqrt(K) ~ 2e-5 of the largest output; Winograd/FFT transforms add
  // up to ~1e-4. A missing term would be >= 1/sqrt(1152) ~ 3e-2. Hence 1e-3.
  const std::vector<ConvCase> shapes = {
      {{8, 64, 56, 56}, 64, conv_window(3, 3, 1, 1, 1, 1)},
      {{8, 128, 28, 28}, 256, conv_window(3, 3, 2, 2, 1, 1)},
      {{8, 128, 28, 28}, 256, conv_window(1, 1, 2, 2)},
  };
  std::uint64_t seed = 60;
  for (const ConvCase& c : shapes) {
    Generator gen(seed++);
    Convolution im2col(c.input[1], c.out_channels, c.window);
    Convolution cudnn(c.input[1], c.out_channels, c.window);
    // He-like scale keeps outputs O(1).
    testing::randomize_parameters(
        im2col, gen,
        1.0 / std::sqrt(double(im2col.window().kernel_h * im2col.window().kernel_w * c.input[1])));
    im2col.to(Device::cuda());
    cudnn.to(Device::cuda());
    copy_parameters(im2col, cudnn);
    im2col.set_algorithm(ConvAlgorithm::Im2col);
    cudnn.set_algorithm(ConvAlgorithm::Cudnn);

    Tensor x = random_float(c.input, gen).to(Device::cuda());
    Tensor y = im2col.forward({x}, Mode::Train);
    Tensor yc = cudnn.forward({x}, Mode::Train);
    EXPECT_EQ(cudnn.last_algorithm(), ConvAlgorithm::Cudnn);
    const std::string what = c.input.str() + " " + kernels::describe(c.window);
    EXPECT_LE(testing::max_normalized_error(y, yc), 1e-3) << "forward " << what;
    Tensor dy = random_float(y.shape(), gen).to(Device::cuda());
    Tensor dx = im2col.backward(dy)[0];
    Tensor dxc = cudnn.backward(dy)[0];
    EXPECT_LE(testing::max_normalized_error(dx, dxc), 1e-3) << "input gradient " << what;
    for (std::size_t k = 0; k < 2; ++k)
      EXPECT_LE(
          testing::max_normalized_error(im2col.parameters()[k]->grad, cudnn.parameters()[k]->grad),
          1e-3)
          << im2col.parameters()[k]->name << " gradient " << what;
  }
}

TEST(ConvolutionLayerGpu, CudnnPlanFollowsShapeChanges) {
  DLFS_REQUIRE_CUDNN();
  // One layer sees three batch sizes and image sizes in turn, then the first again; each
  // forward must match the CPU (a stale plan would compute with the wrong descriptors).
  Generator gen(70);
  Convolution cpu(3, 4, 3, 3, 2, 1), gpu(3, 4, 3, 3, 2, 1);
  testing::randomize_parameters(cpu, gen);
  gpu.to(Device::cuda());
  copy_parameters(cpu, gpu);
  gpu.set_algorithm(ConvAlgorithm::Cudnn);
  for (const Shape& shape :
       {Shape{2, 3, 9, 9}, Shape{5, 3, 9, 9}, Shape{2, 3, 12, 7}, Shape{2, 3, 9, 9}}) {
    Tensor x = random_float(shape, gen);
    Tensor y = cpu.forward({x}, Mode::Inference);
    Tensor yd = gpu.forward({x.to(Device::cuda())}, Mode::Inference);
    EXPECT_LE(testing::max_normalized_error(y, yd), 1e-3) << shape.str();  // as above
  }
}

}  // namespace
}  // namespace dlfs
