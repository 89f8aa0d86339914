#include "dlfs/kernels/add.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  check_same_device(op, {&a, &b});
  check_floating(op, a);
  if (a.shape() != b.shape() || a.dtype() != b.dtype())
    throw Error(std::string(op) + ": operands differ: " + a.str() + " and " + b.str());
}

void add_into(const char* op, const Tensor& a, const Tensor& b, Tensor& y) {
  if (a.device().is_cuda()) {
    DLFS_CUDA_CALL(
        op, cuda::add(a.data<float>(), b.data<float>(), y.data<float>(), a.numel(), stream_of(a)));
    return;
  }
  DLFS_DISPATCH_FLOATING(a.dtype(), op, [&] {
    cpu::add(a.data<scalar_t>(), b.data<scalar_t>(), y.data<scalar_t>(), a.numel());
  });
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  check_operands("add", a, b);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  add_into("add", a, b, y);
  return y;
}

void add_(Tensor& a, const Tensor& b) {
  check_operands("add_", a, b);
  add_into("add_", a, b, a);
}

}  // namespace dlfs::kernels
