#include <algorithm>
#include <cmath>

#include "dlfs/kernels/lrn.hpp"

namespace dlfs::kernels::cpu {

// Each output element sums over its own channel window (and, in backward, over the windows that
// contain it) in ascending channel order, as the CUDA kernels do.
template <typename T>
void lrn_forward(const T* x, T* y, T* scale, const LrnShape& s, const LrnParams& p) {
  const T alpha_over_size = static_cast<T>(p.alpha / p.size), k = static_cast<T>(p.k);
  const T beta = static_cast<T>(p.beta);
  const std::int64_t before = p.size / 2, after = (p.size - 1) / 2;
#pragma omp parallel for collapse(2) if (s.numel() > 65536)
  for (std::int64_t n = 0; n < s.batch; ++n)
    for (std::int64_t c = 0; c < s.channels; ++c) {
      const std::int64_t first = std::max<std::int64_t>(c - before, 0);
      const std::int64_t last = std::min<std::int64_t>(c + after, s.channels - 1);
      const T* xn = x + n * s.channels * s.spatial;
      for (std::int64_t q = 0; q < s.spatial; ++q) {
        T sum = 0;
        for (std::int64_t j = first; j <= last; ++j) {
          const T v = xn[j * s.spatial + q];
          sum += v * v;
        }
        const std::int64_t i = (n * s.channels + c) * s.spatial + q;
        scale[i] = k + alpha_over_size * sum;
        y[i] = x[i] * std::pow(scale[i], -beta);
      }
    }
}

template <typename T>
void lrn_backward(const T* dy, const T* x, const T* y, const T* scale, T* dx, const LrnShape& s,
                  const LrnParams& p) {
  const T factor = static_cast<T>(2 * p.alpha * p.beta / p.size);
  const T beta = static_cast<T>(p.beta);
  // Channel i is in the window of channels c = i - (size-1)/2 .. i + size/2.
  const std::int64_t before = (p.size - 1) / 2, after = p.size / 2;
#pragma omp parallel for collapse(2) if (s.numel() > 65536)
  for (std::int64_t n = 0; n < s.batch; ++n)
    for (std::int64_t c = 0; c < s.channels; ++c) {
      const std::int64_t first = std::max<std::int64_t>(c - before, 0);
      const std::int64_t last = std::min<std::int64_t>(c + after, s.channels - 1);
      const std::int64_t base = n * s.channels * s.spatial;
      for (std::int64_t q = 0; q < s.spatial; ++q) {
        T sum = 0;
        for (std::int64_t j = first; j <= last; ++j) {
          const std::int64_t at = base + j * s.spatial + q;
          sum += dy[at] * y[at] / scale[at];
        }
        const std::int64_t i = base + c * s.spatial + q;
        dx[i] = dy[i] * std::pow(scale[i], -beta) - factor * x[i] * sum;
      }
    }
}

template void lrn_forward<float>(const float*, float*, float*, const LrnShape&, const LrnParams&);
template void lrn_forward<double>(const double*, double*, double*, const LrnShape&,
                                  const LrnParams&);
template void lrn_backward<float>(const float*, const float*, const float*, const float*, float*,
                                  const LrnShape&, const LrnParams&);
template void lrn_backward<double>(const double*, const double*, const double*, const double*,
                                   double*, const LrnShape&, const LrnParams&);

}  // namespace dlfs::kernels::cpu
