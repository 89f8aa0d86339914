#include "dlfs/kernels/global_avg_pool.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void global_avg_pool_forward(const T* x, T* y, std::int64_t planes, std::int64_t spatial) {
  // Sums in double, in order: the reference for float32 as well as float64.
#pragma omp parallel for if (planes * spatial > 65536)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * spatial;
    double sum = 0.0;
    for (std::int64_t s = 0; s < spatial; ++s) sum += xp[s];
    y[p] = static_cast<T>(sum / static_cast<double>(spatial));
  }
}

template <typename T>
void global_avg_pool_backward(const T* dy, T* dx, std::int64_t planes, std::int64_t spatial) {
  const T count = static_cast<T>(spatial);
#pragma omp parallel for if (planes * spatial > 65536)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T grad = dy[p] / count;
    T* dxp = dx + p * spatial;
    for (std::int64_t s = 0; s < spatial; ++s) dxp[s] = grad;
  }
}

template void global_avg_pool_forward<float>(const float*, float*, std::int64_t, std::int64_t);
template void global_avg_pool_forward<double>(const double*, double*, std::int64_t, std::int64_t);
template void global_avg_pool_backward<float>(const float*, float*, std::int64_t, std::int64_t);
template void global_avg_pool_backward<double>(const double*, double*, std::int64_t, std::int64_t);

}  // namespace dlfs::kernels::cpu
