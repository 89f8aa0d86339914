#pragma once
// When one CPU GEMM is worth more than one thread. kernels/cpu/gemm.cpp cuts larger ones into
// fixed blocks of C, one single-threaded OpenBLAS call each, in parallel. Small products (LeNet's
// layers, a batch of 100 through a 120-wide Linear) and small outputs with a long inner dimension
// (the weight gradient dW[6, 25] = dY' col^T with K = 78400) gain nothing from a second thread but
// pay its wake-ups and barriers, which on a busy machine can cost a thousand times the work
// (docs/results.md). kernels/cpu/gemm.cpp runs such GEMMs on one thread; the convolution's
// per-image path (kernels/cpu/conv2d.cpp) runs its GEMMs of that size in parallel over images
// instead.
#include <cstdint>

namespace dlfs::kernels::cpu {

constexpr std::int64_t kGemmThreadedMinMacs = std::int64_t{1} << 24;  // 16.8 M multiply-adds
constexpr std::int64_t kGemmThreadedMinOutputs = std::int64_t{1} << 14;

// True when C = op(A) op(B) with C m x n and inner size k is better done on one thread.
inline bool gemm_wants_one_thread(std::int64_t m, std::int64_t n, std::int64_t k) {
  return m * n * k < kGemmThreadedMinMacs || m * n < kGemmThreadedMinOutputs;
}

}  // namespace dlfs::kernels::cpu
