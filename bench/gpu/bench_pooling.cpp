// Max and average pooling, forward and backward, against cudnnPoolingForward / Backward at
// ResNet/VGG shapes. Bytes charged: what each must move under its interface. dlfs max pooling
// writes (forward) and reads (backward) an int32 argmax beside y; cuDNN's max backward reads
// x, y and dy instead. Average pooling needs only x and y (forward), dy and dx (backward).
#include <cstdint>
#include <string>

#include "cudnn_descriptors.hpp"
#include "dlfs/kernels/avg_pool.hpp"
#include "dlfs/kernels/max_pool.hpp"
#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

namespace {

struct PoolCase {
  bool max;
  Shape input;
  int kernel, stride, padding;
};

void run_case(BenchContext& ctx, const PoolCase& c) {
  const kernels::PoolWindow window = kernels::PoolWindow::square(c.kernel, c.stride, c.padding);
  const kernels::Pool2dGeometry g = kernels::pool2d_geometry("bench", c.input, window);
  const Device gpu = Device::cuda(0);
  const double in_bytes = 4.0 * static_cast<double>(g.input_numel());
  const double out_bytes = 4.0 * static_cast<double>(g.output_numel());
  Tensor x = random_device_tensor(c.input, -1.0, 1.0, 9);
  Tensor dy = random_device_tensor(g.output_shape(), -1.0, 1.0, 10);
  Tensor y = Tensor::empty(g.output_shape(), DType::Float32, gpu);
  Tensor dx = Tensor::empty(c.input, DType::Float32, gpu);
  Tensor argmax = Tensor::empty(g.output_shape(), DType::Int32, gpu);
  auto* argmax_ptr = argmax.data<std::int32_t>();

  Timed fwd{0.0, in_bytes + out_bytes}, bwd{0.0, in_bytes + out_bytes};
  if (c.max) {
    fwd.work += out_bytes;
    bwd.work += out_bytes;
    fwd.ms = ctx.timer.median_ms([&] {
      kernels::cuda::max_pool_forward(x.data<float>(), y.data<float>(), argmax_ptr, g, ctx.stream);
    });
    bwd.ms = ctx.timer.median_ms([&] {
      kernels::cuda::max_pool_backward(dy.data<float>(), argmax_ptr, dx.data<float>(), g,
                                       ctx.stream);
    });
  } else {
    fwd.ms = ctx.timer.median_ms(
        [&] { kernels::cuda::avg_pool_forward(x.data<float>(), y.data<float>(), g, ctx.stream); });
    bwd.ms = ctx.timer.median_ms([&] {
      kernels::cuda::avg_pool_backward(dy.data<float>(), dx.data<float>(), g, ctx.stream);
    });
  }
  const std::string group = c.max ? "max_pool" : "avg_pool";
  const std::string name = group + " " + c.input.str() + " " + window.str();

#if DLFS_HAVE_CUDNN
  CudnnHandle handle = cuda_context(0).cudnn();
  CudnnPooling pooling(c.max ? CUDNN_POOLING_MAX : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                       c.kernel, c.stride, c.padding);
  CudnnTensor x_desc(g.batch, g.channels, g.in_h, g.in_w);
  CudnnTensor y_desc(g.batch, g.channels, g.out_h, g.out_w);
  const float one = 1.0f, zero = 0.0f;
  Tensor vy = Tensor::empty(g.output_shape(), DType::Float32, gpu);
  Tensor vdx = Tensor::empty(c.input, DType::Float32, gpu);
  Timed vfwd{0.0, in_bytes + out_bytes}, vbwd{0.0, in_bytes + out_bytes};
  if (c.max) vbwd.work += in_bytes + out_bytes;
  vfwd.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnPoolingForward(handle, pooling.get(), &one, x_desc.get(), x.raw_data(),
                                         &zero, y_desc.get(), vy.raw_data()));
  });
  vbwd.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnPoolingBackward(handle, pooling.get(), &one, y_desc.get(), vy.raw_data(),
                                          y_desc.get(), dy.raw_data(), x_desc.get(), x.raw_data(),
                                          &zero, x_desc.get(), vdx.raw_data()));
  });
  Measurement f = bandwidth_row(ctx, group, name + " forward", fwd, "cuDNN pooling", vfwd);
  f.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(y, vy))});
  Measurement b =
      bandwidth_row(ctx, group, name + " backward", bwd, "cuDNN pooling backward", vbwd);
  b.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(dx, vdx))});
  ctx.report.add(f);
  ctx.report.add(b);
#else
  ctx.report.add(bandwidth_row(ctx, group, name + " forward", fwd));
  ctx.report.add(bandwidth_row(ctx, group, name + " backward", bwd));
#endif
}

}  // namespace

void bench_pooling(BenchContext& ctx) {
  const PoolCase cases[] = {
      {true, Shape{128, 64, 112, 112}, 3, 2, 1},  // ResNet stem
      {true, Shape{128, 128, 56, 56}, 2, 2, 0},   // VGG / the book's CNNs
      {false, Shape{128, 128, 56, 56}, 2, 2, 0},
      {false, Shape{128, 64, 56, 56}, 3, 1, 1},
  };
  for (const PoolCase& c : cases) run_case(ctx, c);
}

}  // namespace dlfs::bench
