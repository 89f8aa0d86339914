#include "bench/cpu/ceilings.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

namespace dlfs::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<char, FreeDeleter>;

Buffer aligned_buffer(std::int64_t bytes) {
  const std::size_t rounded = (static_cast<std::size_t>(bytes) + 4095) / 4096 * 4096;
  return Buffer(static_cast<char*>(std::aligned_alloc(4096, rounded)));
}

// Every thread copies one contiguous slice, so each core streams its own share.
void parallel_copy(char* dst, const char* src, std::int64_t bytes) {
#pragma omp parallel
  {
    const std::int64_t threads = omp_get_num_threads();
    const std::int64_t t = omp_get_thread_num();
    const std::int64_t begin = bytes * t / threads / 64 * 64;
    const std::int64_t end = t + 1 == threads ? bytes : bytes * (t + 1) / threads / 64 * 64;
    std::memcpy(dst + begin, src + begin, static_cast<std::size_t>(end - begin));
  }
}

}  // namespace

double measure_copy_GBps(std::int64_t bytes, int repeats) {
  Buffer src = aligned_buffer(bytes), dst = aligned_buffer(bytes);
  // Touch every page first (in parallel, as the copies will) so that no page fault is timed.
#pragma omp parallel for
  for (std::int64_t i = 0; i < bytes; i += 4096) {
    src.get()[i] = static_cast<char>(i);
    dst.get()[i] = 0;
  }
  double best_seconds = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    std::memcpy(dst.get(), src.get(), static_cast<std::size_t>(bytes));
    best_seconds = std::min(best_seconds, seconds_since(start));
    start = std::chrono::steady_clock::now();
    parallel_copy(dst.get(), src.get(), bytes);
    best_seconds = std::min(best_seconds, seconds_since(start));
  }
  return 2.0 * static_cast<double>(bytes) / best_seconds / 1e9;
}

double measure_sgemm_GFLOPs(std::int64_t n, int repeats) {
  std::vector<float> a(static_cast<std::size_t>(n * n)), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 17) * 0.01f;
    b[i] = static_cast<float>(i % 13) * 0.02f;
  }
  const int size = static_cast<int>(n);
  auto sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1.0f, a.data(), size,
                b.data(), size, 0.0f, c.data(), size);
  };
  sgemm();  // warm-up: OpenBLAS buffers, page faults on c
  double best_seconds = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    sgemm();
    best_seconds = std::min(best_seconds, seconds_since(start));
  }
  const double flop =
      2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return flop / best_seconds / 1e9;
}

Ceilings measure_ceilings(std::int64_t copy_bytes, std::int64_t sgemm_n) {
  return {measure_copy_GBps(copy_bytes, 5), measure_sgemm_GFLOPs(sgemm_n, 3)};
}

Ceilings best_of(const Ceilings& a, const Ceilings& b) {
  return {std::max(a.copy_GBps, b.copy_GBps), std::max(a.sgemm_GFLOPs, b.sgemm_GFLOPs)};
}

}  // namespace dlfs::bench
