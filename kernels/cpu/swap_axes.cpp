#include <algorithm>

#include "dlfs/kernels/swap_axes.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void swap_leading_axes(const T* x, T* y, std::int64_t outer, std::int64_t inner,
                       std::int64_t block) {
  // One contiguous block per (a, b) pair.
#pragma omp parallel for collapse(2) if (outer * inner * block > (1 << 16))
  for (std::int64_t a = 0; a < outer; ++a) {
    for (std::int64_t b = 0; b < inner; ++b) {
      const T* src = x + (a * inner + b) * block;
      std::copy(src, src + block, y + (b * outer + a) * block);
    }
  }
}

template void swap_leading_axes<float>(const float*, float*, std::int64_t, std::int64_t,
                                       std::int64_t);
template void swap_leading_axes<double>(const double*, double*, std::int64_t, std::int64_t,
                                        std::int64_t);

}  // namespace dlfs::kernels::cpu
