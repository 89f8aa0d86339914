#include "dlfs/kernels/relu.hpp"
#include "dlfs/kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void relu_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n) {
  if (!mask) {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) y[i] = select(x[i] > T(0), x[i], T(0));
    return;
  }
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    // select(): a float `on ? x : 0` would not vectorise (see select.hpp).
    const bool on = x[i] > T(0);
    mask[i] = on;
    y[i] = select(on, x[i], T(0));
  }
}

template <typename T>
void relu_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    // Load unconditionally: a select, not a branch that mispredicts on random masks.
    const T v = dy[i];
    dx[i] = mask[i] ? v : T(0);
  }
}

template <typename T>
void relu_backward_from_output(const T* dy, const T* y, T* dx, std::int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = select(y[i] > T(0), dy[i], T(0));
}

template void relu_forward<float>(const float*, float*, std::uint8_t*, std::int64_t);
template void relu_forward<double>(const double*, double*, std::uint8_t*, std::int64_t);
template void relu_backward<float>(const float*, const std::uint8_t*, float*, std::int64_t);
template void relu_backward<double>(const double*, const std::uint8_t*, double*, std::int64_t);
template void relu_backward_from_output<float>(const float*, const float*, float*, std::int64_t);
template void relu_backward_from_output<double>(const double*, const double*, double*,
                                                std::int64_t);

}  // namespace dlfs::kernels::cpu
