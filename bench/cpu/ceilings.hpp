#pragma once
// The machine's ceilings, measured in the same run as the kernels so that ratios survive a noisy,
// shared machine: streaming-copy bandwidth over buffers far larger than the last-level cache,
// and the OpenBLAS SGEMM rate on a large square product.
#include <cstdint>

namespace dlfs::bench {

struct Ceilings {
  double copy_GBps = 0.0;     // useful bytes (read + written) per second, best of the repeats
  double sgemm_GFLOPs = 0.0;  // 2 n^3 / seconds of cblas_sgemm, best of the repeats
};

// Best of `repeats` copies of `bytes` bytes, with one thread (memcpy) and with every OpenMP
// thread copying its own slice; the faster of the two is the machine's copy bandwidth.
double measure_copy_GBps(std::int64_t bytes, int repeats);

// Best of `repeats` cblas_sgemm calls on n x n float32 matrices (after one warm-up call).
double measure_sgemm_GFLOPs(std::int64_t n, int repeats);

// Both ceilings; the higher of two measurements (before and after the kernels) is the one to use.
Ceilings measure_ceilings(std::int64_t copy_bytes, std::int64_t sgemm_n);
Ceilings best_of(const Ceilings& a, const Ceilings& b);

}  // namespace dlfs::bench
