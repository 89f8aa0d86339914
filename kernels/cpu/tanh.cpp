#include "dlfs/kernels/tanh.hpp"

#include <cmath>

namespace dlfs::kernels::cpu {

template <typename T>
void tanh_forward(const T* x, T* y, std::int64_t n) {
  // std::tanh saturates to +-1 for large |x| without overflowing.
#pragma omp parallel for if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

template <typename T>
void tanh_backward(const T* dy, const T* y, T* dx, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
}

template void tanh_forward<float>(const float*, float*, std::int64_t);
template void tanh_forward<double>(const double*, double*, std::int64_t);
template void tanh_backward<float>(const float*, const float*, float*, std::int64_t);
template void tanh_backward<double>(const double*, const double*, double*, std::int64_t);

}  // namespace dlfs::kernels::cpu
