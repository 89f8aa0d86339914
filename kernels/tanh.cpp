#include "dlfs/kernels/tanh.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor tanh_forward(const Tensor& x) {
  check_floating("tanh_forward", x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("tanh_forward",
                   cuda::tanh_forward(x.data<float>(), y.data<float>(), x.numel(), stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "tanh_forward", [&] {
    cpu::tanh_forward(x.data<scalar_t>(), y.data<scalar_t>(), x.numel());
  });
  return y;
}

Tensor tanh_backward(const Tensor& dy, const Tensor& y) {
  check_same_device("tanh_backward", {&dy, &y});
  check_floating("tanh_backward", dy);
  if (dy.shape() != y.shape() || dy.dtype() != y.dtype())
    throw Error("tanh_backward: gradient " + dy.str() + " does not match output " + y.str());
  Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
  if (dy.device().is_cuda()) {
    DLFS_CUDA_CALL("tanh_backward",
                   cuda::tanh_backward(dy.data<float>(), y.data<float>(), dx.data<float>(),
                                       dy.numel(), stream_of(dy)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(dy.dtype(), "tanh_backward", [&] {
    cpu::tanh_backward(dy.data<scalar_t>(), y.data<scalar_t>(), dx.data<scalar_t>(), dy.numel());
  });
  return dx;
}

}  // namespace dlfs::kernels
