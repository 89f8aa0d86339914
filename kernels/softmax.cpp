#include "dlfs/kernels/softmax.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor softmax(const Tensor& x) {
  check_floating("softmax", x);
  if (x.ndim() < 1) throw Error("softmax: expects at least one axis, got " + x.str());
  const std::int64_t cols = x.dim(x.ndim() - 1);
  const std::int64_t rows = cols == 0 ? 0 : x.numel() / cols;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("softmax", cuda::softmax_forward(x.data<float>(), y.data<float>(), rows, cols,
                                                    stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    cpu::softmax_forward(x.data<scalar_t>(), y.data<scalar_t>(), rows, cols);
  });
  return y;
}

}  // namespace dlfs::kernels
