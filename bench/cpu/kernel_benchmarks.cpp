// The CPU kernel benchmarks: Tensor-level ops on float32 host tensors, and the Convolution layer.
// Elementwise and memory-bound ops run on tensors of 64 MiB (twice this machine's 32 MiB L3) and
// count the useful bytes they must move: every input read once, every output written once.
// GEMM and convolution count floating-point operations (2 per multiply-add).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/cpu/registry.hpp"
#include "dlfs/kernels/avg_pool.hpp"
#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/cpu/direct_conv2d.hpp"
#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/gemm.hpp"
#include "dlfs/kernels/im2col.hpp"
#include "dlfs/kernels/max_pool.hpp"
#include "dlfs/kernels/relu.hpp"
#include "dlfs/kernels/softmax.hpp"
#include "dlfs/kernels/softmax_with_loss.hpp"
#include "dlfs/layers/convolution.hpp"

namespace dlfs::bench {
namespace {

constexpr double kFloat = 4.0;  // bytes of a float32 (and of an int32)
// 2^24 floats = 64 MiB: larger than the last-level cache, so each pass streams from memory.
constexpr std::int64_t kRows = 16384, kCols = 1024, kElements = kRows * kCols;

Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return Tensor::empty(shape).uniform_(gen, -1.0, 1.0);
}

Tensor cyclic_labels(std::int64_t rows, std::int64_t classes) {
  Tensor labels = Tensor::empty({rows}, DType::Int32);
  std::int32_t* p = labels.data<std::int32_t>();
  for (std::int64_t i = 0; i < rows; ++i) p[i] = static_cast<std::int32_t>(i % classes);
  return labels;
}

std::string matrix_name(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

std::string shape_name(const Shape& shape) {
  std::string text;
  for (int i = 0; i < shape.ndim(); ++i) text += (i ? "x" : "") + std::to_string(shape.dim(i));
  return text;
}

void register_softmax_family() {
  const std::string size = matrix_name(kRows, kCols);
  const double matrix_bytes = kFloat * kElements;
  register_benchmark("softmax " + size, {"softmax", Measure::Bytes, 2 * matrix_bytes},
                     [](benchmark::State& state) {
                       Tensor x = random_tensor({kRows, kCols}, 1);
                       for (auto _ : state) benchmark::DoNotOptimize(kernels::softmax(x));
                     });
  // The book's cross_entropy_error against one-hot (distribution) targets: a zero target adds
  // nothing, so what must be read is the target matrix and p at the one nonzero per row.
  register_benchmark("cross_entropy one-hot " + size,
                     {"cross_entropy", Measure::Bytes, matrix_bytes + kFloat * kRows},
                     [](benchmark::State& state) {
                       Tensor p = kernels::softmax(random_tensor({kRows, kCols}, 2));
                       Tensor t = Tensor::zeros({kRows, kCols});
                       float* tp = t.data<float>();
                       for (std::int64_t r = 0; r < kRows; ++r) tp[r * kCols + r % kCols] = 1.0f;
                       for (auto _ : state) benchmark::DoNotOptimize(kernels::cross_entropy(p, t));
                     });
  const double label_bytes = kFloat * kRows;
  register_benchmark(
      "softmax_with_loss fwd " + size,
      {"softmax_with_loss", Measure::Bytes, 2 * matrix_bytes + label_bytes},
      [](benchmark::State& state) {
        Tensor logits = random_tensor({kRows, kCols}, 3);
        Tensor labels = cyclic_labels(kRows, kCols);
        Tensor probs;
        for (auto _ : state)
          benchmark::DoNotOptimize(kernels::softmax_with_loss_forward(logits, labels, &probs));
      });
  register_benchmark(
      "softmax_with_loss bwd " + size,
      {"softmax_with_loss", Measure::Bytes, 2 * matrix_bytes + label_bytes},
      [](benchmark::State& state) {
        Tensor labels = cyclic_labels(kRows, kCols);
        Tensor probs;
        kernels::softmax_with_loss_forward(random_tensor({kRows, kCols}, 4), labels, &probs);
        Tensor dloss = Tensor::full({1}, 1.0);
        for (auto _ : state)
          benchmark::DoNotOptimize(kernels::softmax_with_loss_backward(probs, labels, dloss));
      });
}

void register_relu() {
  // Forward reads x, writes y and the uint8 mask; backward reads dy and the mask, writes dx.
  const double bytes = (2 * kFloat + 1) * kElements;
  register_benchmark("relu fwd " + std::to_string(kElements), {"relu", Measure::Bytes, bytes},
                     [](benchmark::State& state) {
                       Tensor x = random_tensor({kElements}, 5);
                       Tensor mask;
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::relu_forward(x, &mask));
                     });
  register_benchmark("relu bwd " + std::to_string(kElements), {"relu", Measure::Bytes, bytes},
                     [](benchmark::State& state) {
                       Tensor mask;
                       kernels::relu_forward(random_tensor({kElements}, 6), &mask);
                       Tensor dy = random_tensor({kElements}, 7);
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::relu_backward(dy, mask));
                     });
}

struct LoweringCase {
  std::string label;
  Shape input;
  kernels::ConvWindow window;
};

void register_lowering() {
  const std::vector<LoweringCase> cases = {
      {"lenet conv1", {100, 1, 28, 28}, {5, 5, 1, 1, 2, 2}},
      {"vgg", {8, 64, 56, 56}, {3, 3, 1, 1, 1, 1}},
      {"resnet s2", {8, 128, 28, 28}, {3, 3, 2, 2, 1, 1}},
  };
  for (const LoweringCase& c : cases) {
    const kernels::ConvGeometry g = kernels::conv_geometry("bench", c.input, c.window);
    // Useful bytes: the image once and the columns once (im2col reads x, writes col; col2im
    // reads col, writes x).
    const double bytes = kFloat * (c.input.numel() + g.col_rows() * g.col_cols());
    const std::string size = shape_name(c.input) + " " + kernels::describe(c.window);
    register_benchmark("im2col " + c.label + " " + size, {"im2col", Measure::Bytes, bytes},
                       [c](benchmark::State& state) {
                         Tensor x = random_tensor(c.input, 8);
                         for (auto _ : state)
                           benchmark::DoNotOptimize(kernels::im2col(x, c.window));
                       });
    register_benchmark("col2im " + c.label + " " + size, {"col2im", Measure::Bytes, bytes},
                       [c, g](benchmark::State& state) {
                         Tensor col = random_tensor({g.col_rows(), g.col_cols()}, 9);
                         for (auto _ : state)
                           benchmark::DoNotOptimize(kernels::col2im(col, c.input, c.window));
                       });
  }
}

// Max pooling, forward and backward, 2x2 stride 2 on `input`; it also writes (forward) or reads
// (backward) the int32 argmax of each window.
void register_max_pool(const std::string& label, const Shape& input) {
  const kernels::PoolWindow window = kernels::PoolWindow::square(2, 2);
  const double in = static_cast<double>(input.numel()), out = in / 4;
  const std::string size = label + shape_name(input) + " " + window.str();
  register_benchmark("max_pool fwd " + size, {"max_pool", Measure::Bytes, kFloat * (in + 2 * out)},
                     [input, window](benchmark::State& state) {
                       Tensor x = random_tensor(input, 10);
                       Tensor argmax;
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::max_pool_forward(x, window, &argmax));
                     });
  register_benchmark(
      "max_pool bwd " + size, {"max_pool", Measure::Bytes, kFloat * (in + 2 * out)},
      [input, window](benchmark::State& state) {
        Tensor argmax;
        Tensor y = kernels::max_pool_forward(random_tensor(input, 11), window, &argmax);
        Tensor dy = random_tensor(y.shape(), 12);
        for (auto _ : state)
          benchmark::DoNotOptimize(kernels::max_pool_backward(dy, argmax, input, window));
      });
}

void register_pooling() {
  // 16x64x128x128 = 2^24 floats; 2x2 stride 2 windows (VGG), which do not overlap.
  const Shape input{16, 64, 128, 128};
  const kernels::PoolWindow window = kernels::PoolWindow::square(2, 2);
  const double in = static_cast<double>(input.numel()), out = in / 4;
  const std::string size = shape_name(input) + " " + window.str();
  register_max_pool("", input);
  // LeNet-5's two pools at batch 64 (in cache; rows of 14 and 5 outputs).
  register_max_pool("lenet pool1 ", Shape{64, 6, 28, 28});
  register_max_pool("lenet pool2 ", Shape{64, 16, 10, 10});
  register_benchmark("avg_pool fwd " + size, {"avg_pool", Measure::Bytes, kFloat * (in + out)},
                     [input, window](benchmark::State& state) {
                       Tensor x = random_tensor(input, 13);
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::avg_pool_forward(x, window));
                     });
  register_benchmark("avg_pool bwd " + size, {"avg_pool", Measure::Bytes, kFloat * (in + out)},
                     [input, window](benchmark::State& state) {
                       Shape output{input.dim(0), input.dim(1), input.dim(2) / 2, input.dim(3) / 2};
                       Tensor dy = random_tensor(output, 14);
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::avg_pool_backward(dy, input, window));
                     });
}

// 32x128x64x64 = 2^24 floats, statistics per channel over 32 * 4096 values, and ResNet-20's
// first stage at batch 64 (3.2 MB, within the last-level cache).
void register_batch_norm_at(const Shape& input) {
  const std::int64_t channels = input.dim(1);
  const double n = static_cast<double>(input.numel());
  const std::string size = shape_name(input);
  struct Params {
    Tensor gamma, beta, running_mean, running_var;
  };
  auto params = [channels] {
    return Params{random_tensor({channels}, 15), random_tensor({channels}, 16),
                  Tensor::zeros({channels}), Tensor::full({channels}, 1.0)};
  };
  // Train forward: x read, y written (a second read of x for the statistics is not "useful").
  register_benchmark(
      "batch_norm train fwd " + size, {"batch_norm", Measure::Bytes, kFloat * 2 * n},
      [input, params](benchmark::State& state) {
        Tensor x = random_tensor(input, 17);
        Params p = params();
        kernels::BatchNormSaved saved;
        for (auto _ : state)
          benchmark::DoNotOptimize(kernels::batch_norm_train_forward(
              x, p.gamma, p.beta, p.running_mean, p.running_var, nullptr, 0.1, 1e-5, &saved));
      });
  register_benchmark("batch_norm inference fwd " + size,
                     {"batch_norm", Measure::Bytes, kFloat * 2 * n},
                     [input, params](benchmark::State& state) {
                       Tensor x = random_tensor(input, 18);
                       Params p = params();
                       for (auto _ : state)
                         benchmark::DoNotOptimize(kernels::batch_norm_inference_forward(
                             x, p.gamma, p.beta, p.running_mean, p.running_var, 1e-5));
                     });
  // Backward: dy and x read, dx written.
  register_benchmark(
      "batch_norm bwd " + size, {"batch_norm", Measure::Bytes, kFloat * 3 * n},
      [input, params](benchmark::State& state) {
        Tensor x = random_tensor(input, 19);
        Tensor dy = random_tensor(input, 20);
        Params p = params();
        kernels::BatchNormSaved saved;
        kernels::batch_norm_train_forward(x, p.gamma, p.beta, p.running_mean, p.running_var,
                                          nullptr, 0.1, 1e-5, &saved);
        for (auto _ : state)
          benchmark::DoNotOptimize(kernels::batch_norm_backward(dy, x, p.gamma, saved));
      });
}

void register_batch_norm() {
  for (const Shape& input : {Shape{32, 128, 64, 64}, Shape{64, 16, 28, 28}})
    register_batch_norm_at(input);
}

void register_gemm() {
  struct GemmCase {
    std::string label;
    std::int64_t m, n, k;
    bool trans_a = false, trans_b = false;
  };
  const std::vector<GemmCase> cases = {
      {"square", 2048, 2048, 2048},
      {"square", 512, 512, 512},
      // The forward GEMM of the VGG convolution below: W[128, 576] * col[576, 8*56*56].
      {"vgg conv fwd", 128, 25088, 576},
      // Its backward GEMMs: dW[128, 576] = dY'[128, 25088] * col^T (K = the batch's pixels), and
      // dcol[576, 25088] = W^T * dY' (K = 128 output channels).
      {"vgg conv dW", 128, 576, 25088, false, true},
      {"vgg conv dcol", 576, 25088, 128, true, false},
  };
  for (const GemmCase& c : cases) {
    const double flop = 2.0 * c.m * c.n * c.k;
    register_benchmark(
        "matmul " + c.label + " " + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
            std::to_string(c.k),
        {"gemm", Measure::Flops, flop}, [c](benchmark::State& state) {
          Tensor a = random_tensor(c.trans_a ? Shape{c.k, c.m} : Shape{c.m, c.k}, 21);
          Tensor b = random_tensor(c.trans_b ? Shape{c.n, c.k} : Shape{c.k, c.n}, 22);
          Tensor out = Tensor::empty({c.m, c.n});
          for (auto _ : state) {
            kernels::matmul(a, c.trans_a, b, c.trans_b, out);
            benchmark::ClobberMemory();
          }
        });
  }
}

struct ConvCase {
  std::string label;
  Shape input;
  std::int64_t out_channels, kernel, stride, padding;
};

void register_convolution() {
  std::vector<ConvCase> cases = {
      {"lenet conv1", {100, 1, 28, 28}, 6, 5, 1, 2},
      {"simple-convnet conv1", {100, 1, 28, 28}, 30, 5, 1, 0},
      {"lenet conv2", {100, 6, 14, 14}, 16, 5, 1, 0},
      {"vgg conv", {8, 64, 56, 56}, 128, 3, 1, 1},
      {"vgg conv", {4, 256, 28, 28}, 256, 3, 1, 1},
      {"resnet 3x3", {8, 64, 56, 56}, 64, 3, 1, 1},
      {"resnet 3x3 s2", {8, 128, 28, 28}, 256, 3, 2, 1},
      {"resnet 1x1", {8, 64, 56, 56}, 256, 1, 1, 0},
      {"resnet 1x1 s2", {8, 128, 28, 28}, 256, 1, 2, 0},
  };
  // 3x3 stride-1 layers of the 28x28 catalog nets at training's batch 64, and one of the 224
  // nets' first stage: the shapes behind the rule for oneDNN's Winograd kernels
  // (docs/convolution.md; DLFS_CONV=onednn against DLFS_CONV=winograd).
  const std::vector<std::array<std::int64_t, 4>> grid = {
      // channels, map size, out channels, batch
      {16, 28, 16, 64},  {32, 28, 32, 64},  {64, 28, 64, 64},   {32, 14, 32, 64},
      {32, 14, 64, 64},  {64, 14, 64, 64},  {128, 14, 128, 64}, {64, 7, 128, 64},
      {128, 7, 128, 64}, {256, 7, 256, 64}, {64, 56, 64, 8}};
  for (const auto& [channels, size, out_channels, batch] : grid)
    cases.push_back({"3x3", {batch, channels, size, size}, out_channels, 3, 1, 1});
  for (const ConvCase& c : cases) {
    auto make_layer = [c] {
      Convolution conv(c.input.dim(1), c.out_channels, c.kernel, c.kernel, c.stride, c.padding);
      Generator gen(23);
      for (Parameter* p : conv.parameters()) p->value.uniform_(gen, -0.1, 0.1);
      return conv;
    };
    const Shape output = make_layer().output_shape(c.input);
    // Forward: one multiply-add per weight tap per output pixel. Backward: the same again for
    // the weight gradient and for the data gradient.
    const double forward_flop = 2.0 * output.numel() * c.input.dim(1) * c.kernel * c.kernel;
    const std::string size = shape_name(c.input) + "->" + std::to_string(c.out_channels) + " k" +
                             std::to_string(c.kernel) + " s" + std::to_string(c.stride) + " p" +
                             std::to_string(c.padding);
    register_benchmark("conv fwd " + c.label + " " + size,
                       {"conv fwd", Measure::Flops, forward_flop},
                       [c, make_layer](benchmark::State& state) {
                         Convolution conv = make_layer();
                         Tensor x = random_tensor(c.input, 24);
                         for (auto _ : state)
                           benchmark::DoNotOptimize(conv.forward({x}, Mode::Inference));
                       });
    register_benchmark("conv fwd+bwd " + c.label + " " + size,
                       {"conv fwd+bwd", Measure::Flops, 3 * forward_flop},
                       [c, output, make_layer](benchmark::State& state) {
                         Convolution conv = make_layer();
                         Tensor x = random_tensor(c.input, 25);
                         Tensor dy = random_tensor(output, 26);
                         for (auto _ : state) {
                           benchmark::DoNotOptimize(conv.forward({x}, Mode::Train));
                           benchmark::DoNotOptimize(conv.backward(dy));
                         }
                       });
  }
}

}  // namespace

// The Direct path's kernels alone, one image after another as its chunks run them, at both
// vector widths side by side (8 floats; 16 floats, two output channels per register, where the
// CPU has AVX-512 and the 16-float line is registered): the same bits, so only time differs.
void register_direct_convolution() {
  using kernels::cpu::DirectWidth;
  const std::vector<ConvCase> cases = {{"lenet conv1", {64, 1, 28, 28}, 6, 5, 1, 2},
                                       {"simple-convnet conv1", {64, 1, 28, 28}, 30, 5, 1, 0}};
  std::vector<std::pair<std::string, DirectWidth>> widths = {{"8-float", DirectWidth::EightLanes}};
  if (kernels::cpu::direct_conv2d_has_wide_kernels())
    widths.push_back({"16-float", DirectWidth::Widest});
  for (const ConvCase& c : cases) {
    const kernels::ConvWindow window{c.kernel,  c.kernel,  c.stride, c.stride,
                                     c.padding, c.padding, 1,        1};
    const kernels::ConvGeometry g = kernels::conv_geometry("bench", c.input, window);
    kernels::ConvGeometry one_image = g;
    one_image.batch = 1;
    const double flop = 2.0 * g.batch * c.out_channels * g.out_h * g.out_w * c.kernel * c.kernel;
    for (const auto& [name, width] : widths) {
      const std::string label = c.label + " " + shape_name(c.input) + " " + name;
      const auto run = [c, g, one_image, width = width](benchmark::State& state, bool forward) {
        const Tensor x = random_tensor(c.input, 27);
        const Tensor w = random_tensor({c.out_channels, 1, c.kernel, c.kernel}, 28);
        Tensor y = random_tensor({g.batch, c.out_channels, g.out_h, g.out_w}, 29);
        Tensor dw = Tensor::empty(w.shape());
        std::vector<float> scratch(static_cast<std::size_t>(
            kernels::cpu::direct_conv2d_scratch_elements(one_image, c.out_channels)));
        const std::int64_t in_floats = g.height * g.width, out_floats = y.numel() / g.batch;
        for (auto _ : state)
          for (std::int64_t n = 0; n < g.batch; ++n) {
            if (forward)
              kernels::cpu::direct_conv2d_forward_image(
                  one_image, c.out_channels, x.data<float>() + n * in_floats, w.data<float>(),
                  nullptr, y.data<float>() + n * out_floats, scratch.data(), width);
            else
              kernels::cpu::direct_conv2d_weight_grad_image(
                  one_image, c.out_channels, x.data<float>() + n * in_floats,
                  y.data<float>() + n * out_floats, dw.data<float>(), n > 0, scratch.data(), width);
          }
      };
      register_benchmark("direct fwd " + label, {"direct conv", Measure::Flops, flop},
                         [run](benchmark::State& state) { run(state, true); });
      register_benchmark("direct dW " + label, {"direct conv", Measure::Flops, flop},
                         [run](benchmark::State& state) { run(state, false); });
    }
  }
}

void register_kernel_benchmarks() {
  register_softmax_family();
  register_relu();
  register_batch_norm();
  register_pooling();
  register_lowering();
  register_gemm();
  register_convolution();
  register_direct_convolution();
}

}  // namespace dlfs::bench
