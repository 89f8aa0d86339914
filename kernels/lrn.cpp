#include "dlfs/kernels/lrn.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
LrnShape lrn_shape(const char* op, const Tensor& x, const LrnParams& p) {
  if (x.ndim() < 3)
    throw Error(std::string(op) + ": expects an [N, C, H, W] (or [N, C, L]) input, got " + x.str());
  if (p.size < 1 || !(p.k > 0) || p.alpha < 0 || p.beta < 0)
    throw Error(std::string(op) + ": needs size >= 1, k > 0, alpha >= 0 and beta >= 0, got size " +
                std::to_string(p.size) + ", alpha " + std::to_string(p.alpha) + ", beta " +
                std::to_string(p.beta) + ", k " + std::to_string(p.k));
  LrnShape s;
  s.batch = x.dim(0);
  s.channels = x.dim(1);
  for (int d = 2; d < x.ndim(); ++d) s.spatial *= x.dim(d);
  return s;
}
}  // namespace

Tensor lrn_forward(const Tensor& x, const LrnParams& params, Tensor* scale) {
  check_floating("lrn_forward", x);
  const LrnShape s = lrn_shape("lrn_forward", x, params);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  *scale = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("lrn_forward", cuda::lrn_forward(x.data<float>(), y.data<float>(),
                                                    scale->data<float>(), s, params, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "lrn_forward", [&] {
    cpu::lrn_forward(x.data<scalar_t>(), y.data<scalar_t>(), scale->data<scalar_t>(), s, params);
  });
  return y;
}

Tensor lrn_backward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& scale,
                    const LrnParams& params) {
  check_same_device("lrn_backward", {&dy, &x, &y, &scale});
  check_floating("lrn_backward", x);
  const LrnShape s = lrn_shape("lrn_backward", x, params);
  for (const Tensor* t : {&dy, &y, &scale})
    if (t->shape() != x.shape() || t->dtype() != x.dtype())
      throw Error("lrn_backward: " + t->str() + " does not match input " + x.str());
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("lrn_backward", cuda::lrn_backward(dy.data<float>(), x.data<float>(),
                                                      y.data<float>(), scale.data<float>(),
                                                      dx.data<float>(), s, params, stream_of(x)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "lrn_backward", [&] {
    cpu::lrn_backward(dy.data<scalar_t>(), x.data<scalar_t>(), y.data<scalar_t>(),
                      scale.data<scalar_t>(), dx.data<scalar_t>(), s, params);
  });
  return dx;
}

}  // namespace dlfs::kernels
