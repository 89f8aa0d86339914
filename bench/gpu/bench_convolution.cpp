// Convolution through the Convolution layer (layers/convolution.hpp): its im2col + cuBLAS path
// against its cuDNN path (set_algorithm), at ResNet-18 shapes, forward (Inference mode) and
// backward (data and weight gradients, after an untimed Train-mode forward). Both paths are
// charged with the direct convolution's FLOPs: 2 N O OH OW C kh kw forward, twice that backward.
#include <cstdint>
#include <optional>
#include <string>

#include "dlfs/layers/convolution.hpp"
#include "dlfs/runtime/generator.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

namespace {

struct ConvCase {
  const char* what;
  std::int64_t in_channels, out_channels, size, kernel, stride, padding;
};

struct ConvTimes {
  Timed forward, backward;
  std::string algorithm;  // what the layer reports it ran
};

ConvTimes time_layer(BenchContext& ctx, Convolution& layer, const Tensor& x, const Tensor& dy,
                     double flops) {
  ConvTimes t;
  t.forward.work = flops;
  t.backward.work = 2.0 * flops;
  t.forward.ms = ctx.timer.median_ms([&] { layer.forward({x}, Mode::Inference); });
  t.algorithm = layer.last_algorithm() ? conv_algorithm_name(*layer.last_algorithm()) : "?";
  t.backward.ms =
      ctx.timer.median_ms([&] { layer.backward(dy); }, [&] { layer.forward({x}, Mode::Train); });
  return t;
}

// vendor is null where the cuDNN path did not run (no cuDNN in this build).
Measurement flops_row(const std::string& name, double peak, const Timed& dlfs,
                      const ConvTimes& im2col, const std::optional<Timed>& vendor,
                      const std::string& vendor_name, const std::optional<ConvTimes>& cudnn) {
  Measurement m;
  m.group = "convolution";
  m.name = name;
  m.metric = "GFLOP/s";
  m.value = dlfs.rate();
  m.ceiling = peak;
  m.extra = {{"ms", json_number(dlfs.ms)},
             {"flops", json_number(dlfs.work)},
             {"dlfs_algorithm_ran", json_string(im2col.algorithm)}};
  if (vendor && cudnn && cudnn->algorithm == conv_algorithm_name(ConvAlgorithm::Cudnn)) {
    m.vendor = vendor_name;
    m.vendor_value = vendor->rate();
    m.extra.push_back({"vendor_ms", json_number(vendor->ms)});
    m.extra.push_back({"target", json_string("im2col within 2x of cuDNN: ratio >= 0.5")});
  }
  return m;
}

}  // namespace

void bench_convolution(BenchContext& ctx) {
  const std::int64_t n = ctx.conv_batch;
  const double peak = fp32_peak_gflops();
  const ConvCase cases[] = {
      {"conv1", 3, 64, 224, 7, 2, 3},    {"layer1", 64, 64, 56, 3, 1, 1},
      {"layer2", 128, 128, 28, 3, 1, 1}, {"layer2 down", 64, 128, 56, 1, 2, 0},
      {"layer3", 256, 256, 14, 3, 1, 1}, {"layer4", 512, 512, 7, 3, 1, 1},
  };
  for (const ConvCase& c : cases) {
    Convolution im2col(c.in_channels, c.out_channels, c.kernel, c.kernel, c.stride, c.padding,
                       false);
    Convolution cudnn(c.in_channels, c.out_channels, c.kernel, c.kernel, c.stride, c.padding,
                      false);
    im2col.set_algorithm(ConvAlgorithm::Im2col);
    cudnn.set_algorithm(ConvAlgorithm::Cudnn);
    Generator gen(17);
    for (Convolution* layer : {&im2col, &cudnn}) {
      layer->parameters()[0]->value.uniform_(gen, -0.1, 0.1);
      layer->to(Device::cuda(0));
    }
    const Shape input{n, c.in_channels, c.size, c.size};
    const Shape output = im2col.output_shape(input);
    Tensor x = random_device_tensor(input, -1.0, 1.0, 18);
    Tensor dy = random_device_tensor(output, -1.0, 1.0, 19);
    const double flops =
        2.0 * static_cast<double>(output.numel()) * c.in_channels * c.kernel * c.kernel;
    const ConvTimes a = time_layer(ctx, im2col, x, dy, flops);
    std::optional<ConvTimes> b;
    if (built_with_cudnn()) b = time_layer(ctx, cudnn, x, dy, flops);
    const std::string name = std::string("conv ") + c.what + " " + input.str() + " " +
                             std::to_string(c.in_channels) + "->" + std::to_string(c.out_channels) +
                             " k" + std::to_string(c.kernel) + " s" + std::to_string(c.stride);
    const auto vendor_forward = b ? std::optional<Timed>(b->forward) : std::nullopt;
    const auto vendor_backward = b ? std::optional<Timed>(b->backward) : std::nullopt;
    ctx.report.add(
        flops_row(name + " forward", peak, a.forward, a, vendor_forward, "cuDNN convolution", b));
    ctx.report.add(flops_row(name + " backward", peak, a.backward, a, vendor_backward,
                             "cuDNN convolution backward", b));
  }
}

}  // namespace dlfs::bench
