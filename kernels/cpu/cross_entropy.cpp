#include "dlfs/kernels/cross_entropy.hpp"

#include <algorithm>
#include <cmath>

#include "dlfs/kernels/cpu/row_sum.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void cross_entropy(const T* p, const std::int32_t* labels, T* loss, std::int64_t rows,
                   std::int64_t cols) {
  const double sum = sum_rows_deterministic(rows, 1, [&](std::int64_t n) {
    return -std::log(static_cast<double>(p[n * cols + labels[n]]) + kCrossEntropyDelta);
  });
  *loss = static_cast<T>(sum / static_cast<double>(rows));
}

// True when t[0..count) has a nonzero entry: a vectorised scan (no early exit, no branch).
template <typename T>
bool any_nonzero(const T* t, std::int64_t count) {
  int any = 0;
#pragma omp simd reduction(| : any)
  for (std::int64_t i = 0; i < count; ++i) any |= static_cast<int>(t[i] != T(0));
  return any != 0;
}

template <typename T>
void cross_entropy(const T* p, const T* targets, T* loss, std::int64_t rows, std::int64_t cols) {
  // One-hot (or sparse) targets are mostly zeros, and zero targets add nothing: scanning for
  // them a block at a time with vector compares, and taking logs only in blocks that have a
  // nonzero, keeps the kernel at memory speed instead of one branch per entry. The terms are
  // added in the same order either way.
  constexpr std::int64_t kBlock = 64;
  const double sum = sum_rows_deterministic(rows, cols, [&](std::int64_t n) {
    double row_sum = 0.0;
    for (std::int64_t begin = n * cols; begin < (n + 1) * cols; begin += kBlock) {
      const std::int64_t end = std::min(begin + kBlock, (n + 1) * cols);
      if (!any_nonzero(targets + begin, end - begin)) continue;
      for (std::int64_t i = begin; i < end; ++i) {
        // Skipping zero targets also keeps 0 * log(...) from turning NaN on bad p.
        if (targets[i] == T(0)) continue;
        row_sum -= static_cast<double>(targets[i]) *
                   std::log(static_cast<double>(p[i]) + kCrossEntropyDelta);
      }
    }
    return row_sum;
  });
  *loss = static_cast<T>(sum / static_cast<double>(rows));
}

template void cross_entropy<float>(const float*, const std::int32_t*, float*, std::int64_t,
                                   std::int64_t);
template void cross_entropy<double>(const double*, const std::int32_t*, double*, std::int64_t,
                                    std::int64_t);
template void cross_entropy<float>(const float*, const float*, float*, std::int64_t, std::int64_t);
template void cross_entropy<double>(const double*, const double*, double*, std::int64_t,
                                    std::int64_t);

}  // namespace dlfs::kernels::cpu
