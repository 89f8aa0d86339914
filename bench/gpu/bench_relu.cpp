// ReLU forward and backward (dlfs keeps a uint8 mask, as the book's Relu) against
// cudnnActivationForward / Backward. Each is charged with the bytes it must move: dlfs forward
// reads x and writes y and the mask (9 bytes an element), cuDNN forward 8; dlfs backward reads
// dy and the mask and writes dx (9), cuDNN backward reads y, dy and x and writes dx (16).
#include <cstdint>

#include "cudnn_descriptors.hpp"
#include "dlfs/kernels/relu.hpp"
#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

void bench_relu(BenchContext& ctx) {
  const std::int64_t n = ctx.elementwise_bytes / 4;
  const double elements = static_cast<double>(n);
  Tensor x = random_device_tensor(Shape{n}, -1.0, 1.0, 2);
  Tensor dy = random_device_tensor(Shape{n}, -1.0, 1.0, 3);
  Tensor y = Tensor::empty(Shape{n}, DType::Float32, Device::cuda(0));
  Tensor dx = Tensor::empty(Shape{n}, DType::Float32, Device::cuda(0));
  Tensor mask = Tensor::empty(Shape{n}, DType::UInt8, Device::cuda(0));
  auto* mask_ptr = static_cast<std::uint8_t*>(mask.raw_data());

  Timed fwd{0.0, 9.0 * elements}, bwd{0.0, 9.0 * elements};
  fwd.ms = ctx.timer.median_ms([&] {
    kernels::cuda::relu_forward(x.data<float>(), y.data<float>(), mask_ptr, n, ctx.stream);
  });
  bwd.ms = ctx.timer.median_ms([&] {
    kernels::cuda::relu_backward(dy.data<float>(), mask_ptr, dx.data<float>(), n, ctx.stream);
  });
  const std::string size = " " + mib_text(static_cast<double>(ctx.elementwise_bytes));

#if DLFS_HAVE_CUDNN
  CudnnHandle handle = cuda_context(0).cudnn();
  const std::int64_t cols = n % 4096 == 0 ? 4096 : 1;
  CudnnTensor desc(n / cols, cols, 1, 1);
  CudnnActivation relu(CUDNN_ACTIVATION_RELU);
  const float one = 1.0f, zero = 0.0f;
  Tensor vy = Tensor::empty(Shape{n}, DType::Float32, Device::cuda(0));
  Tensor vdx = Tensor::empty(Shape{n}, DType::Float32, Device::cuda(0));
  Timed vfwd{0.0, 8.0 * elements}, vbwd{0.0, 16.0 * elements};
  vfwd.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnActivationForward(handle, relu.get(), &one, desc.get(), x.raw_data(),
                                            &zero, desc.get(), vy.raw_data()));
  });
  vbwd.ms = ctx.timer.median_ms([&] {
    DLFS_CUDNN_CHECK(cudnnActivationBackward(handle, relu.get(), &one, desc.get(), vy.raw_data(),
                                             desc.get(), dy.raw_data(), desc.get(), x.raw_data(),
                                             &zero, desc.get(), vdx.raw_data()));
  });
  Measurement f = bandwidth_row(ctx, "relu", "relu forward" + size, fwd, "cuDNN activation", vfwd);
  f.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(y, vy))});
  Measurement b =
      bandwidth_row(ctx, "relu", "relu backward" + size, bwd, "cuDNN activation backward", vbwd);
  b.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(dx, vdx))});
  ctx.report.add(f);
  ctx.report.add(b);
#else
  ctx.report.add(bandwidth_row(ctx, "relu", "relu forward" + size, fwd));
  ctx.report.add(bandwidth_row(ctx, "relu", "relu backward" + size, bwd));
#endif
}

}  // namespace dlfs::bench
