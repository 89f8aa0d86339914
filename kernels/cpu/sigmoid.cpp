#include "dlfs/kernels/sigmoid.hpp"

#include <cmath>

namespace dlfs::kernels::cpu {

template <typename T>
void sigmoid_forward(const T* x, T* y, std::int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    if (v >= T(0)) {
      y[i] = T(1) / (T(1) + std::exp(-v));
    } else {
      const T e = std::exp(v);
      y[i] = e / (T(1) + e);
    }
  }
}

template <typename T>
void sigmoid_backward(const T* dy, const T* y, T* dx, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
}

template void sigmoid_forward<float>(const float*, float*, std::int64_t);
template void sigmoid_forward<double>(const double*, double*, std::int64_t);
template void sigmoid_backward<float>(const float*, const float*, float*, std::int64_t);
template void sigmoid_backward<double>(const double*, const double*, double*, std::int64_t);

}  // namespace dlfs::kernels::cpu
