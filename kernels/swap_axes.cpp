#include "dlfs/kernels/swap_axes.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

Tensor swap_leading_axes(const Tensor& x) {
  check_floating("swap_leading_axes", x);
  if (x.ndim() < 2) throw Error("swap_leading_axes: expects at least two axes, got " + x.str());
  std::vector<std::int64_t> dims = x.shape().dims();
  std::swap(dims[0], dims[1]);
  Tensor y = Tensor::empty(Shape(dims), x.dtype(), x.device());
  const std::int64_t outer = x.dim(0), inner = x.dim(1);
  const std::int64_t block = outer * inner == 0 ? 0 : x.numel() / (outer * inner);
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("swap_leading_axes", cuda::swap_leading_axes(x.data<float>(), y.data<float>(),
                                                                outer, inner, block, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "swap_leading_axes", [&] {
    cpu::swap_leading_axes(x.data<scalar_t>(), y.data<scalar_t>(), outer, inner, block);
  });
  return y;
}

}  // namespace dlfs::kernels
