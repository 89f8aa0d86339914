#include "dlfs/kernels/dropout.hpp"
#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n, float p, T scale,
                     std::uint64_t seed, std::uint64_t offset) {
#pragma omp parallel for if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const bool keep = rng::uniform_float(seed, offset + static_cast<std::uint64_t>(i)) >= p;
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : T(0);
  }
}

template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n, T scale) {
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] * scale : T(0);
}

template void dropout_forward<float>(const float*, float*, std::uint8_t*, std::int64_t, float,
                                     float, std::uint64_t, std::uint64_t);
template void dropout_forward<double>(const double*, double*, std::uint8_t*, std::int64_t, float,
                                      double, std::uint64_t, std::uint64_t);
template void dropout_backward<float>(const float*, const std::uint8_t*, float*, std::int64_t,
                                      float);
template void dropout_backward<double>(const double*, const std::uint8_t*, double*, std::int64_t,
                                       double);

}  // namespace dlfs::kernels::cpu
