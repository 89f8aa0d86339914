#pragma once
// General matrix multiply, row-major: C = alpha * op(A) * op(B) + beta * C, where op(X) is X or
// its transpose, op(A) is m x k, op(B) is k x n, C is m x n, and ld* are row strides (elements).
// CPU: OpenBLAS cblas_?gemm. CUDA: cublasSgemm on the column-major view, where row-major C is
// column-major C^T = op(B)^T op(A)^T, so A and B swap places and nothing is transposed in memory.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc);
}  // namespace cpu

namespace cuda {
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc, CublasHandle handle);
}  // namespace cuda

// c = alpha * op(a) op(b) + beta * c for 2-D contiguous tensors on one device.
void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha = 1.0, double beta = 0.0);

}  // namespace dlfs::kernels
