#include "kernels/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dlfs::kernels::cpu {

template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t cols) {
#pragma omp parallel for if (rows * cols > 65536)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* in = x + r * cols;
    T* out = y + r * cols;
    double max = -std::numeric_limits<double>::infinity();
    for (std::int64_t c = 0; c < cols; ++c) max = std::max(max, static_cast<double>(in[c]));
    double sum = 0.0;
    for (std::int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(in[c]) - max);
    for (std::int64_t c = 0; c < cols; ++c)
      out[c] = static_cast<T>(std::exp(static_cast<double>(in[c]) - max) / sum);
  }
}

template void softmax_forward<float>(const float*, float*, std::int64_t, std::int64_t);
template void softmax_forward<double>(const double*, double*, std::int64_t, std::int64_t);

}  // namespace dlfs::kernels::cpu
