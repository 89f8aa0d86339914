#include "dlfs/kernels/softmax.hpp"

#include "dlfs/kernels/cpu/softmax_row.hpp"

namespace dlfs::kernels::cpu {

DLFS_SIMD_CLONES SoftmaxRowStats softmax_row_float(const float* row, float* out,
                                                   std::int64_t cols) {
  return softmax_row_body(row, out, cols);
}

template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t cols) {
  // Rows are independent: one thread per row, so the thread count does not change the result.
#pragma omp parallel for if (rows * cols > 65536 && rows > 1)
  for (std::int64_t r = 0; r < rows; ++r) softmax_row(x + r * cols, y + r * cols, cols);
}

template void softmax_forward<float>(const float*, float*, std::int64_t, std::int64_t);
template void softmax_forward<double>(const double*, double*, std::int64_t, std::int64_t);

}  // namespace dlfs::kernels::cpu
