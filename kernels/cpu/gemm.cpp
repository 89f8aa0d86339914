#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "dlfs/kernels/cpu/gemm_threads.hpp"
#include "dlfs/kernels/cpu/thread_count_scope.hpp"
#include "dlfs/kernels/gemm.hpp"

namespace dlfs::kernels::cpu {

namespace {
CBLAS_TRANSPOSE op(bool t) {
  return t ? CblasTrans : CblasNoTrans;
}
int as_int(std::int64_t v) {
  return static_cast<int>(v);
}

void blas_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
               float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
               float beta, float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), as_int(m), as_int(n), as_int(k), alpha, a,
              as_int(lda), b, as_int(ldb), beta, c, as_int(ldc));
}
void blas_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
               double alpha, const double* a, std::int64_t lda, const double* b, std::int64_t ldb,
               double beta, double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), as_int(m), as_int(n), as_int(k), alpha, a,
              as_int(lda), b, as_int(ldb), beta, c, as_int(ldc));
}

// OpenBLAS's own threading changes the bits of C with the thread count (0.3.21's Zen kernels,
// 2026-12-06: every shape tried, 128x100x4320 among them). So dlfs never lets it thread: small
// GEMMs (gemm_threads.hpp) run as one call on one thread, and the others, at any thread count,
// are cut into kGemmBlocks blocks of C's rows or columns, whichever C has more of, each one
// single-threaded call, the threads taking blocks as they come free. The blocks depend on the
// shape only, so C is the same bit for bit at any thread count, and a core shared with another
// process holds back only the blocks it runs.
constexpr std::int64_t kGemmBlocks = 8;

template <typename T>
void gemm_impl(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
               const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
               std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (gemm_wants_one_thread(m, n, k)) {
    const ThreadCountScope one_thread(1);
    blas_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool by_rows = m >= n;
  const std::int64_t extent = by_rows ? m : n;
  // Blocks of a multiple of 16 rows or columns keep OpenBLAS's micro-kernels on full tiles.
  const std::int64_t block = (extent + kGemmBlocks * 16 - 1) / (kGemmBlocks * 16) * 16;
  const std::int64_t blocks = (extent + block - 1) / block;
  // Inside a parallel region (a convolution's images) the blocks run in turn on this thread.
#pragma omp parallel for schedule(dynamic, 1) if (!omp_in_parallel())
  for (std::int64_t i = 0; i < blocks; ++i) {
    const std::int64_t first = i * block, size = std::min(block, extent - first);
    const ThreadCountScope one_thread(
        1);  // else OpenBLAS would size its split by the team's thread count
    if (by_rows) {
      // Rows [first, first + size) of op(A) and of C.
      const T* a_rows = trans_a ? a + first : a + first * lda;
      blas_gemm(trans_a, trans_b, size, n, k, alpha, a_rows, lda, b, ldb, beta, c + first * ldc,
                ldc);
    } else {
      // Columns [first, first + size) of op(B) and of C.
      const T* b_columns = trans_b ? b + first * ldb : b + first;
      blas_gemm(trans_a, trans_b, m, size, k, alpha, a, lda, b_columns, ldb, beta, c + first, ldc);
    }
  }
}
}  // namespace

template <>
void gemm<float>(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                 float beta, float* c, std::int64_t ldc) {
  gemm_impl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<double>(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  double alpha, const double* a, std::int64_t lda, const double* b,
                  std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
  gemm_impl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace dlfs::kernels::cpu
