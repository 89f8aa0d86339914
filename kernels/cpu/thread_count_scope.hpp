#pragma once
// Lowers (or sets) the calling thread's OpenMP thread count for a scope. OpenBLAS's OpenMP build
// and oneDNN both size their work split by omp_get_max_threads() when called (oneDNN: when a
// primitive is made), so dlfs runs a single-threaded GEMM block or makes a chunk's primitives
// inside one of these.
#include <omp.h>

namespace dlfs::kernels::cpu {

class ThreadCountScope {
 public:
  explicit ThreadCountScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads != saved_) omp_set_num_threads(threads);
  }
  ~ThreadCountScope() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int saved_;
};

}  // namespace dlfs::kernels::cpu
