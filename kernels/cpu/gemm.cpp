#include <cblas.h>
#include <omp.h>

#include "dlfs/kernels/cpu/gemm_threads.hpp"
#include "dlfs/kernels/gemm.hpp"

namespace dlfs::kernels::cpu {

namespace {
CBLAS_TRANSPOSE op(bool t) {
  return t ? CblasTrans : CblasNoTrans;
}
int as_int(std::int64_t v) {
  return static_cast<int>(v);
}

// Runs small GEMMs on one thread (gemm_threads.hpp says which and why) by lowering the calling
// thread's OpenMP thread count for the call. The thread count does not change the result:
// OpenBLAS gives each thread its own block of C and never splits K.
class GemmThreads {
 public:
  GemmThreads(std::int64_t m, std::int64_t n, std::int64_t k) : saved_(omp_get_max_threads()) {
    single_ = saved_ > 1 && gemm_wants_one_thread(m, n, k);
    if (single_) omp_set_num_threads(1);
  }
  ~GemmThreads() {
    if (single_) omp_set_num_threads(saved_);
  }
  GemmThreads(const GemmThreads&) = delete;
  GemmThreads& operator=(const GemmThreads&) = delete;

 private:
  int saved_;
  bool single_ = false;
};
}  // namespace

template <>
void gemm<float>(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                 float beta, float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  const GemmThreads threads(m, n, k);
  cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), as_int(m), as_int(n), as_int(k), alpha, a,
              as_int(lda), b, as_int(ldb), beta, c, as_int(ldc));
}

template <>
void gemm<double>(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  double alpha, const double* a, std::int64_t lda, const double* b,
                  std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  const GemmThreads threads(m, n, k);
  cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), as_int(m), as_int(n), as_int(k), alpha, a,
              as_int(lda), b, as_int(ldb), beta, c, as_int(ldc));
}

}  // namespace dlfs::kernels::cpu
