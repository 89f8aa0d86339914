#include "dlfs/kernels/add.hpp"
#include "dlfs/kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void add(const T* a, const T* b, T* y, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

template <typename T>
void add_relu(const T* a, const T* b, T* y, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T sum = a[i] + b[i];
    y[i] = select(sum > T(0), sum, T(0));
  }
}

template void add<float>(const float*, const float*, float*, std::int64_t);
template void add<double>(const double*, const double*, double*, std::int64_t);
template void add_relu<float>(const float*, const float*, float*, std::int64_t);
template void add_relu<double>(const double*, const double*, double*, std::int64_t);

}  // namespace dlfs::kernels::cpu
