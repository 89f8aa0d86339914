#include <cmath>

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::kernels::cpu {

// Each loop is the readable reference for its CUDA twin: one element at a time, value and
// state read once and written once. Coefficients such as 1 - beta2 are formed in double before
// the cast: in float, 1 - 0.999f is off by 1.3e-5 relative.

template <typename T>
void sgd_update(T* w, const T* g, std::int64_t n, const SgdStep& s) {
  const T lr = T(s.lr), wd = T(s.weight_decay);
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = g[i] + wd * w[i];
    w[i] -= lr * grad;
  }
}

template <typename T>
void momentum_update(T* w, const T* g, T* v, std::int64_t n, const MomentumStep& s) {
  const T lr = T(s.lr), m = T(s.momentum), wd = T(s.weight_decay);
  if (s.pytorch_style) {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) {
      const T grad = g[i] + wd * w[i];
      v[i] = m * v[i] + grad;
      w[i] -= lr * v[i];
    }
  } else {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) {
      const T grad = g[i] + wd * w[i];
      v[i] = m * v[i] - lr * grad;
      w[i] += v[i];
    }
  }
}

template <typename T>
void nesterov_update(T* w, const T* g, T* v, std::int64_t n, const MomentumStep& s) {
  const T lr = T(s.lr), m = T(s.momentum), wd = T(s.weight_decay);
  if (s.pytorch_style) {
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) {
      const T grad = g[i] + wd * w[i];
      v[i] = m * v[i] + grad;
      w[i] -= lr * (grad + m * v[i]);
    }
  } else {
    const T m_squared = T(s.momentum * s.momentum), lr_look_ahead = T((1.0 + s.momentum) * s.lr);
#pragma omp parallel for simd if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) {
      const T grad = g[i] + wd * w[i];
      v[i] = m * v[i] - lr * grad;
      w[i] += m_squared * v[i] - lr_look_ahead * grad;
    }
  }
}

template <typename T>
void adagrad_update(T* w, const T* g, T* h, std::int64_t n, const AdaGradStep& s) {
  const T lr = T(s.lr), eps = T(s.eps), wd = T(s.weight_decay);
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = g[i] + wd * w[i];
    h[i] += grad * grad;
    w[i] -= lr * grad / (std::sqrt(h[i]) + eps);
  }
}

template <typename T>
void rmsprop_update(T* w, const T* g, T* h, std::int64_t n, const RmspropStep& s) {
  const T lr = T(s.lr), d = T(s.decay), one_minus_d = T(1.0 - s.decay), eps = T(s.eps);
  const T wd = T(s.weight_decay);
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = g[i] + wd * w[i];
    h[i] = d * h[i] + one_minus_d * grad * grad;
    w[i] -= lr * grad / (std::sqrt(h[i]) + eps);
  }
}

template <typename T>
void adam_update(T* w, const T* g, T* m, T* v, std::int64_t n, const AdamStep& s) {
  const T step = T(s.step_size), one_minus_b1 = T(1.0 - s.beta1), one_minus_b2 = T(1.0 - s.beta2);
  const T eps = T(s.eps), bc2 = T(s.sqrt_bias_correction2), wd = T(s.weight_decay);
#pragma omp parallel for simd if (n > 65536)
  for (std::int64_t i = 0; i < n; ++i) {
    const T grad = g[i] + wd * w[i];
    m[i] += one_minus_b1 * (grad - m[i]);
    v[i] += one_minus_b2 * (grad * grad - v[i]);
    w[i] -= step * m[i] / (std::sqrt(v[i]) / bc2 + eps);
  }
}

#define DLFS_INSTANTIATE_OPTIMIZER_UPDATES(T)                                            \
  template void sgd_update<T>(T*, const T*, std::int64_t, const SgdStep&);               \
  template void momentum_update<T>(T*, const T*, T*, std::int64_t, const MomentumStep&); \
  template void nesterov_update<T>(T*, const T*, T*, std::int64_t, const MomentumStep&); \
  template void adagrad_update<T>(T*, const T*, T*, std::int64_t, const AdaGradStep&);   \
  template void rmsprop_update<T>(T*, const T*, T*, std::int64_t, const RmspropStep&);   \
  template void adam_update<T>(T*, const T*, T*, T*, std::int64_t, const AdamStep&);

DLFS_INSTANTIATE_OPTIMIZER_UPDATES(float)
DLFS_INSTANTIATE_OPTIMIZER_UPDATES(double)
#undef DLFS_INSTANTIATE_OPTIMIZER_UPDATES

}  // namespace dlfs::kernels::cpu
