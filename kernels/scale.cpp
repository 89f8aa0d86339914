#include "dlfs/kernels/scale.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
void scale_into(const char* op, const Tensor& x, double alpha, Tensor& y) {
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL(op, cuda::scale(x.data<float>(), static_cast<float>(alpha), y.data<float>(),
                                   x.numel(), stream_of(x)));
    return;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::scale(x.data<scalar_t>(), static_cast<scalar_t>(alpha), y.data<scalar_t>(), x.numel());
  });
}
}  // namespace

Tensor scale(const Tensor& a, double alpha) {
  check_floating("scale", a);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  scale_into("scale", a, alpha, y);
  return y;
}

void scale_(Tensor& a, double alpha) {
  check_floating("scale_", a);
  scale_into("scale_", a, alpha, a);
}

void axpy_(Tensor& y, double alpha, const Tensor& x) {
  check_same_device("axpy_", {&y, &x});
  check_floating("axpy_", y);
  if (y.shape() != x.shape() || y.dtype() != x.dtype())
    throw Error("axpy_: operands differ: y " + y.str() + ", x " + x.str());
  if (y.device().is_cuda()) {
    DLFS_CUDA_CALL("axpy_", cuda::axpy(static_cast<float>(alpha), x.data<float>(), y.data<float>(),
                                       y.numel(), stream_of(y)));
    return;
  }
  DLFS_DISPATCH_FLOATING(y.dtype(), "axpy_", [&] {
    cpu::axpy(static_cast<scalar_t>(alpha), x.data<scalar_t>(), y.data<scalar_t>(), y.numel());
  });
}

}  // namespace dlfs::kernels
