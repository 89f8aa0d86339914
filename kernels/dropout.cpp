#include "dlfs/kernels/dropout.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

double dropout_scale(double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error("dropout: drop probability " + std::to_string(p) + " is outside [0, 1]");
  return p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
}

Tensor dropout_forward(const Tensor& x, double p, std::uint64_t seed, std::uint64_t offset,
                       Tensor* mask) {
  check_floating("dropout_forward", x);
  const double scale = dropout_scale(p);
  // p is compared in float32 by both twins, so they keep exactly the same elements.
  const float p_float = static_cast<float>(p);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  *mask = Tensor::empty(x.shape(), DType::UInt8, x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("dropout_forward",
                   cuda::dropout_forward(x.data<float>(), y.data<float>(),
                                         mask->data<std::uint8_t>(), x.numel(), p_float,
                                         static_cast<float>(scale), seed, offset, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "dropout_forward", [&] {
    cpu::dropout_forward(x.data<scalar_t>(), y.data<scalar_t>(), mask->data<std::uint8_t>(),
                         x.numel(), p_float, static_cast<scalar_t>(scale), seed, offset);
  });
  return y;
}

Tensor dropout_backward(const Tensor& dy, const Tensor& mask, double p) {
  check_same_device("dropout_backward", {&dy, &mask});
  check_floating("dropout_backward", dy);
  if (dy.shape() != mask.shape() || mask.dtype() != DType::UInt8)
    throw Error("dropout_backward: gradient " + dy.str() + " does not match mask " + mask.str());
  const double scale = dropout_scale(p);
  Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL(
        "dropout_backward",
        cuda::dropout_backward(dy.data<float>(), mask.data<std::uint8_t>(), dx.data<float>(),
                               dy.numel(), static_cast<float>(scale), stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "dropout_backward", [&] {
    cpu::dropout_backward(dy.data<scalar_t>(), mask.data<std::uint8_t>(), dx.data<scalar_t>(),
                          dy.numel(), static_cast<scalar_t>(scale));
  });
  return dx;
}

}  // namespace dlfs::kernels
