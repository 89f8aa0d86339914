#pragma once
// A sum of one double term per row that gives the same result for any thread count: rows are
// cut into kRowSumChunks fixed ranges (their bounds depend on `rows` only), each chunk sums its
// rows in order, in parallel, and the chunk sums are added in order. Used for batch losses.
#include <cstdint>

namespace dlfs::kernels::cpu {

constexpr std::int64_t kRowSumChunks = 64;

// `cols` only sizes the work, to decide whether threads are worth starting.
template <typename RowTerm>
double sum_rows_deterministic(std::int64_t rows, std::int64_t cols, RowTerm&& row_term) {
  double partial[kRowSumChunks] = {};
#pragma omp parallel for if (rows * cols > 65536 && rows > 1)
  for (std::int64_t k = 0; k < kRowSumChunks; ++k)
    for (std::int64_t n = rows * k / kRowSumChunks; n < rows * (k + 1) / kRowSumChunks; ++n)
      partial[k] += row_term(n);
  double total = 0.0;
  for (std::int64_t k = 0; k < kRowSumChunks; ++k) total += partial[k];
  return total;
}

}  // namespace dlfs::kernels::cpu
