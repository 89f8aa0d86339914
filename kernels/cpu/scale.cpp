#include "dlfs/kernels/scale.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void scale(const T* x, T alpha, T* y, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

template <typename T>
void axpy(T alpha, const T* x, T* y, std::int64_t n) {
  // ISO C++ mode (-std=c++17) compiles with -ffp-contract=off, so this is a product rounded to T
  // and then a sum rounded to T, exactly what the CUDA twin does with __fmul_rn/__fadd_rn.
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T product = alpha * x[i];
    y[i] = y[i] + product;
  }
}

template void scale<float>(const float*, float, float*, std::int64_t);
template void scale<double>(const double*, double, double*, std::int64_t);
template void axpy<float>(float, const float*, float*, std::int64_t);
template void axpy<double>(double, const double*, double*, std::int64_t);

}  // namespace dlfs::kernels::cpu
