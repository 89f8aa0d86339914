#include "dlfs/kernels/gemm.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, double alpha,
            double beta) {
  check_same_device("matmul", {&a, &b, &c});
  check_floating("matmul", a);
  if (a.ndim() != 2 || b.ndim() != 2 || c.ndim() != 2)
    throw Error("matmul: expects 2-D tensors, got " + a.str() + ", " + b.str() + ", " + c.str());
  if (a.dtype() != b.dtype() || a.dtype() != c.dtype())
    throw Error("matmul: dtypes differ: " + a.str() + ", " + b.str() + ", " + c.str());
  const std::int64_t m = trans_a ? a.dim(1) : a.dim(0);
  const std::int64_t k = trans_a ? a.dim(0) : a.dim(1);
  const std::int64_t kb = trans_b ? b.dim(1) : b.dim(0);
  const std::int64_t n = trans_b ? b.dim(0) : b.dim(1);
  if (k != kb || c.dim(0) != m || c.dim(1) != n)
    throw Error("matmul: shapes do not agree: op(a) " + std::to_string(m) + "x" +
                std::to_string(k) + ", op(b) " + std::to_string(kb) + "x" + std::to_string(n) +
                ", c " + c.shape().str());
  if (a.device().is_cuda()) {
    DLFS_CUDA_CALL("matmul",
                   cuda::gemm(trans_a, trans_b, m, n, k, static_cast<float>(alpha), a.data<float>(),
                              a.dim(1), b.data<float>(), b.dim(1), static_cast<float>(beta),
                              c.data<float>(), n, cublas_of(a)));
    return;
  }
  DLFS_DISPATCH_FLOATING(a.dtype(), "matmul", [&] {
    cpu::gemm<scalar_t>(trans_a, trans_b, m, n, k, static_cast<scalar_t>(alpha), a.data<scalar_t>(),
                        a.dim(1), b.data<scalar_t>(), b.dim(1), static_cast<scalar_t>(beta),
                        c.data<scalar_t>(), n);
  });
}

}  // namespace dlfs::kernels
