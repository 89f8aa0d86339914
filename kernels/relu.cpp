#include "dlfs/kernels/relu.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor relu_forward(const Tensor& x, Tensor* mask) {
  check_floating("relu_forward", x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  std::uint8_t* mask_data = nullptr;
  if (mask) {
    *mask = Tensor::empty(x.shape(), DType::UInt8, x.device());
    mask_data = mask->data<std::uint8_t>();
  }
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("relu_forward", cuda::relu_forward(x.data<float>(), y.data<float>(), mask_data,
                                                      x.numel(), stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "relu_forward", [&] {
    cpu::relu_forward(x.data<scalar_t>(), y.data<scalar_t>(), mask_data, x.numel());
  });
  return y;
}

Tensor relu_backward(const Tensor& dy, const Tensor& mask) {
  check_same_device("relu_backward", {&dy, &mask});
  check_floating("relu_backward", dy);
  if (dy.numel() != mask.numel())
    throw Error("relu_backward: gradient " + dy.str() + " does not match mask " + mask.str());
  Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL("relu_backward",
                   cuda::relu_backward(dy.data<float>(), mask.data<std::uint8_t>(),
                                       dx.data<float>(), dy.numel(), stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "relu_backward", [&] {
    cpu::relu_backward(dy.data<scalar_t>(), mask.data<std::uint8_t>(), dx.data<scalar_t>(),
                       dy.numel());
  });
  return dx;
}

Tensor relu_backward_from_output(const Tensor& dy, const Tensor& y) {
  const char* op = "relu_backward_from_output";
  check_same_device(op, {&dy, &y});
  check_floating(op, dy);
  if (dy.shape() != y.shape() || dy.dtype() != y.dtype())
    throw Error(std::string(op) + ": gradient " + dy.str() + " does not match output " + y.str());
  if (!dy.device().is_cpu()) throw Error(std::string(op) + ": runs on the CPU only");
  Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
  DLFS_DISPATCH_FLOATING(dy.dtype(), op, [&] {
    cpu::relu_backward_from_output(dy.data<scalar_t>(), y.data<scalar_t>(), dx.data<scalar_t>(),
                                   dy.numel());
  });
  return dx;
}

}  // namespace dlfs::kernels
