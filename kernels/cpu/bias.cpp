#include "dlfs/kernels/bias.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void bias_add(T* y, const T* bias, std::int64_t batch, std::int64_t channels,
              std::int64_t spatial) {
#pragma omp parallel for collapse(2) if (batch * channels * spatial > 65536)
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t c = 0; c < channels; ++c) {
      T* row = y + (n * channels + c) * spatial;
      const T b = bias[c];
      for (std::int64_t s = 0; s < spatial; ++s) row[s] += b;
    }
}

template <typename T>
void bias_grad(const T* dy, T* dbias, std::int64_t batch, std::int64_t channels,
               std::int64_t spatial) {
  // Each channel summed by one thread in a fixed order: repeatable bit for bit. Eight running
  // sums (element s goes to sum s % 8 of its row) instead of one let the compiler use SIMD
  // adds, and they are combined in a fixed order too; one sum would be a chain of dependent adds
  // (and no more accurate).
  constexpr int kLanes = 8;
#pragma omp parallel for if (batch * channels * spatial > 65536)
  for (std::int64_t c = 0; c < channels; ++c) {
    T lanes[kLanes] = {};
    T tail = 0;
    for (std::int64_t n = 0; n < batch; ++n) {
      const T* row = dy + (n * channels + c) * spatial;
      std::int64_t s = 0;
      for (; s + kLanes <= spatial; s += kLanes)
        for (int l = 0; l < kLanes; ++l) lanes[l] += row[s + l];
      for (; s < spatial; ++s) tail += row[s];
    }
    T sum = tail;
    for (int l = 0; l < kLanes; ++l) sum += lanes[l];
    dbias[c] = sum;
  }
}

template void bias_add<float>(float*, const float*, std::int64_t, std::int64_t, std::int64_t);
template void bias_add<double>(double*, const double*, std::int64_t, std::int64_t, std::int64_t);
template void bias_grad<float>(const float*, float*, std::int64_t, std::int64_t, std::int64_t);
template void bias_grad<double>(const double*, double*, std::int64_t, std::int64_t, std::int64_t);

}  // namespace dlfs::kernels::cpu
