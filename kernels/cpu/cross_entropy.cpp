#include "kernels/cross_entropy.hpp"

#include <cmath>

namespace dlfs::kernels::cpu {

namespace {
// The loss is a sum of one term per row. Rows are cut into kChunks fixed ranges (bounds depend
// on `rows` only), summed in parallel, each in row order, and the chunk sums are added in order:
// the same result for any thread count.
constexpr std::int64_t kChunks = 64;

template <typename RowTerm>
double sum_rows(std::int64_t rows, std::int64_t cols, RowTerm&& row_term) {
  double partial[kChunks] = {};
#pragma omp parallel for if (rows * cols > 65536 && rows > 1)
  for (std::int64_t k = 0; k < kChunks; ++k)
    for (std::int64_t n = rows * k / kChunks; n < rows * (k + 1) / kChunks; ++n)
      partial[k] += row_term(n);
  double total = 0.0;
  for (std::int64_t k = 0; k < kChunks; ++k) total += partial[k];
  return total;
}
}  // namespace

template <typename T>
void cross_entropy(const T* p, const std::int32_t* labels, T* loss, std::int64_t rows,
                   std::int64_t cols) {
  const double sum = sum_rows(rows, 1, [&](std::int64_t n) {
    return -std::log(static_cast<double>(p[n * cols + labels[n]]) + kCrossEntropyDelta);
  });
  *loss = static_cast<T>(sum / static_cast<double>(rows));
}

template <typename T>
void cross_entropy(const T* p, const T* targets, T* loss, std::int64_t rows, std::int64_t cols) {
  const double sum = sum_rows(rows, cols, [&](std::int64_t n) {
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
