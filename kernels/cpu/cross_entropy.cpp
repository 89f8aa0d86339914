#include "kernels/cross_entropy.hpp"

#include <cmath>

#include "kernels/cpu/row_sum.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void cross_entropy(const T* p, const std::int32_t* labels, T* loss, std::int64_t rows,
                   std::int64_t cols) {
  const double sum = sum_rows_deterministic(rows, 1, [&](std::int64_t n) {
    return -std::log(static_cast<double>(p[n * cols + labels[n]]) + kCrossEntropyDelta);
  });
  *loss = static_cast<T>(sum / static_cast<double>(rows));
}

template <typename T>
void cross_entropy(const T* p, const T* targets, T* loss, std::int64_t rows, std::int64_t cols) {
  const double sum = sum_rows_deterministic(rows, cols, [&](std::int64_t n) {
    double row_sum = 0.0;
    for (std::int64_t i = n * cols; i < (n + 1) * cols; ++i) {
      // Zero targets add nothing; skipping them keeps 0 * log(...) from turning NaN on bad p.
      if (targets[i] == T(0)) continue;
      row_sum -= static_cast<double>(targets[i]) *
                 std::log(static_cast<double>(p[i]) + kCrossEntropyDelta);
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
