#include <cmath>
#include <cstring>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/cpu/select.hpp"
#include "dlfs/kernels/cpu/simd_clones.hpp"

namespace dlfs::kernels::cpu {

namespace {
// The per-channel passes work on eight values at a time, as vectors (GCC's vector extension):
// eight running sums in double, element k of each image's plane going to sum k % 8, added in
// order at the end; the values left over at the end of a plane (k from the last multiple of 8)
// go to sum k % 8 one by one. A single running sum made every step wait for the one before;
// written as eight scalar sums, GCC kept them scalar. The order is fixed by the shape, so the
// bits do not depend on the thread count. Each pass is compiled for AVX-512, AVX2 and SSE2
// (simd_clones.hpp) and this file without contracting a * b + c into one fused multiply-add
// (CMakeLists.txt), so every clone rounds as the scalar loops did: the same bits on every CPU.
constexpr int kLanes = 8;
typedef double Sums __attribute__((vector_size(kLanes * sizeof(double))));
template <typename T>
struct LanesOf;
template <>
struct LanesOf<float> {
  typedef float type __attribute__((vector_size(kLanes * sizeof(float))));
};
template <>
struct LanesOf<double> {
  typedef double type __attribute__((vector_size(kLanes * sizeof(double))));
};
template <typename T>
using Lanes = typename LanesOf<T>::type;

// Vectors go in and out by reference: a vector wider than the baseline's registers passed by value
// would change the calling convention between the clones (GCC's -Wpsabi).
template <typename T>
inline void load(const T* p, Lanes<T>& v) {
  std::memcpy(&v, p, sizeof v);
}
template <typename T>
inline void store(T* p, const Lanes<T>& v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
inline void widen(const Lanes<T>& v, Sums& wide) {
  wide = __builtin_convertvector(v, Sums);
}
// Eight values of x from p, in double.
template <typename T>
inline void load_wide(const T* p, Sums& wide) {
  Lanes<T> v;
  load(p, v);
  widen<T>(v, wide);
}
inline double total(const Sums& sums) {
  double t = 0.0;
  for (int j = 0; j < kLanes; ++j) t += sums[j];
  return t;
}

// Calls eight(i) for each run of eight values of channel c starting at index i, and one(i, lane)
// for each value left over at a plane's end, in (n, s) order.
template <typename Eight, typename One>
inline void for_channel(const BatchNormShape& s, std::int64_t c, Eight&& eight, One&& one) {
  for (std::int64_t n = 0; n < s.batch; ++n) {
    const std::int64_t start = (n * s.channels + c) * s.spatial;
    std::int64_t k = 0;
    for (; k + kLanes <= s.spatial; k += kLanes) eight(start + k);
    for (; k < s.spatial; ++k) one(start + k, static_cast<int>(k % kLanes));
  }
}

struct Moments {
  double sum = 0.0, squares = 0.0;  // of x, and of (x - sum / count)^2
};

// Two passes: the sum, then the squares about the mean (not E[x^2] - mean^2, which cancels).
template <typename T>
DLFS_SIMD_CLONES Moments channel_moments(const T* x, const BatchNormShape& s, std::int64_t c) {
  Sums sums = {};
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Sums wide;
        load_wide(x + i, wide);
        sums += wide;
      },
      [&](std::int64_t i, int lane) { sums[lane] += double{x[i]}; });
  Moments m;
  m.sum = total(sums);
  const double mean = m.sum / static_cast<double>(s.per_channel());
  sums = Sums{};
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Sums d;
        load_wide(x + i, d);
        d -= mean;
        sums += d * d;
      },
      [&](std::int64_t i, int lane) {
        const double d = x[i] - mean;
        sums[lane] += d * d;
      });
  m.squares = total(sums);
  return m;
}

// y = (x - mean) * invstd * g + b over channel c, clamped at 0 with `relu` (select(v > 0, v, 0),
// the ReLU kernel's bits).
template <typename T>
DLFS_SIMD_CLONES void normalize_channel(const T* x, T* y, const BatchNormShape& s, std::int64_t c,
                                        T mean, T invstd, T g, T b, bool relu) {
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Lanes<T> v;
        load(x + i, v);
        v = (v - mean) * invstd * g + b;
        if (relu) v = v > T(0) ? v : Lanes<T>{};
        store(y + i, v);
      },
      [&](std::int64_t i, int) {
        const T v = (x[i] - mean) * invstd * g + b;
        y[i] = relu ? select(v > T(0), v, T(0)) : v;
      });
}

// The same with each value clamped at 0 (select(v > 0, v, 0), the ReLU kernel's bits) when
// `relu`, and bias_c added to x first when `with_bias` (x itself without: x + 0 would turn -0
// into +0).
template <typename T>
DLFS_SIMD_CLONES void normalize_channel_inference(const T* x, T* y, const BatchNormShape& s,
                                                  std::int64_t c, T mean, T invstd, T g, T b,
                                                  bool relu, bool with_bias, T bias_c) {
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Lanes<T> v;
        load(x + i, v);
        if (with_bias) v += bias_c;
        v = (v - mean) * invstd * g + b;
        if (relu) v = v > T(0) ? v : Lanes<T>{};
        store(y + i, v);
      },
      [&](std::int64_t i, int) {
        const T input = with_bias ? x[i] + bias_c : x[i];
        const T v = (input - mean) * invstd * g + b;
        y[i] = relu ? select(v > T(0), v, T(0)) : v;
      });
}

struct BackwardSums {
  double dy = 0.0, dy_xhat = 0.0;  // sum(dy), sum(dy * x_hat)
};

// dy as backward uses it: with a ReLU after the forward (relu_output: that ReLU's output), zero
// where the ReLU clamped, as the ReLU's own backward would have made it.
template <typename T>
inline void masked_dy(const T* dy, const T* relu_output, std::int64_t i, Lanes<T>& g) {
  load(dy + i, g);
  if (relu_output) {
    Lanes<T> y;
    load(relu_output + i, y);
    g = y > T(0) ? g : Lanes<T>{};
  }
}
template <typename T>
inline T masked_dy(const T* dy, const T* relu_output, std::int64_t i) {
  return relu_output ? select(relu_output[i] > T(0), dy[i], T(0)) : dy[i];
}

template <typename T>
DLFS_SIMD_CLONES BackwardSums channel_backward_sums(const T* dy, const T* relu_output, const T* x,
                                                    const BatchNormShape& s, std::int64_t c, T mean,
                                                    T invstd) {
  Sums a = {}, b = {};
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Lanes<T> g, v;
        Sums g_wide, xhat_wide;
        masked_dy(dy, relu_output, i, g);
        load(x + i, v);
        v = (v - mean) * invstd;  // x_hat, rounded to T as in the scalar loop
        widen<T>(g, g_wide);
        widen<T>(v, xhat_wide);
        a += g_wide;
        b += g_wide * xhat_wide;
      },
      [&](std::int64_t i, int lane) {
        const T g = masked_dy(dy, relu_output, i);
        a[lane] += double{g};
        b[lane] += static_cast<double>(g) * static_cast<double>((x[i] - mean) * invstd);
      });
  return {total(a), total(b)};
}

// dx = scale * (dy - mean_dy - x_hat * mean_dy_xhat) over channel c.
template <typename T>
DLFS_SIMD_CLONES void channel_backward_input(const T* dy, const T* relu_output, const T* x, T* dx,
                                             const BatchNormShape& s, std::int64_t c, T mean,
                                             T invstd, T scale, T mean_dy, T mean_dy_xhat) {
  for_channel(
      s, c,
      [&](std::int64_t i) {
        Lanes<T> g, v;
        masked_dy(dy, relu_output, i, g);
        load(x + i, v);
        v = (v - mean) * invstd;
        g = scale * (g - mean_dy - v * mean_dy_xhat);
        store(dx + i, g);
      },
      [&](std::int64_t i, int) {
        const T xhat = (x[i] - mean) * invstd;
        dx[i] = scale * (masked_dy(dy, relu_output, i) - mean_dy - xhat * mean_dy_xhat);
      });
}
}  // namespace

// Each channel is handled by one thread; sums are in double and in a fixed order (see above), so
// the CPU path is repeatable bit for bit at any thread count and serves as the float32 reference.
// Variance is two-pass.
template <typename T>
void batch_norm_train_forward(const T* x, const T* gamma, const T* beta, T* y, T* running_mean,
                              T* running_var, T* save_mean, T* save_invstd,
                              std::int64_t* batches_tracked, const BatchNormShape& s,
                              double momentum, double eps, bool relu) {
  const double count = static_cast<double>(s.per_channel());
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const Moments m = channel_moments(x, s, c);
    const double mean = m.sum / count;
    const double var = m.squares / count;  // biased: used to normalize
    const T mean_t = static_cast<T>(mean);
    const T invstd = static_cast<T>(1.0 / std::sqrt(var + eps));
    save_mean[c] = mean_t;
    save_invstd[c] = invstd;
    const double unbiased = m.squares / (count - 1.0);
    running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
    running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    normalize_channel(x, y, s, c, mean_t, invstd, gamma[c], beta[c], relu);
  }
  if (batches_tracked) *batches_tracked += 1;
}

template <typename T>
void batch_norm_inference_forward(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                  const T* running_var, T* y, const BatchNormShape& s, double eps,
                                  bool relu, const T* bias) {
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
    normalize_channel_inference(x, y, s, c, running_mean[c], invstd, gamma[c], beta[c], relu,
                                bias != nullptr, bias ? bias[c] : T(0));
  }
}

template <typename T>
void batch_norm_backward(const T* dy, const T* x, const T* gamma, const T* save_mean,
                         const T* save_invstd, T* dx, T* dgamma, T* dbeta, const BatchNormShape& s,
                         const T* relu_output) {
  const T count = static_cast<T>(s.per_channel());
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T mean = save_mean[c], invstd = save_invstd[c];
    const BackwardSums sums = channel_backward_sums(dy, relu_output, x, s, c, mean, invstd);
    const T db = static_cast<T>(sums.dy), dg = static_cast<T>(sums.dy_xhat);
    dbeta[c] = db;
    dgamma[c] = dg;
    channel_backward_input(dy, relu_output, x, dx, s, c, mean, invstd, gamma[c] * invstd,
                           db / count, dg / count);
  }
}

template <typename T>
void batch_norm_backward_input(const T* dy, const T* x, const T* gamma, const T* save_mean,
                               const T* save_invstd, const T* dgamma, const T* dbeta, double count,
                               T* dx, const BatchNormShape& s) {
  const T m = static_cast<T>(count);
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T invstd = save_invstd[c];
    channel_backward_input(dy, static_cast<const T*>(nullptr), x, dx, s, c, save_mean[c], invstd,
                           gamma[c] * invstd, dbeta[c] / m, dgamma[c] / m);
  }
}

#define DLFS_INSTANTIATE_BATCH_NORM(T)                                                            \
  template void batch_norm_train_forward<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*,     \
                                            std::int64_t*, const BatchNormShape&, double, double, \
                                            bool);                                                \
  template void batch_norm_inference_forward<T>(const T*, const T*, const T*, const T*, const T*, \
                                                T*, const BatchNormShape&, double, bool,          \
                                                const T*);                                        \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,  \
                                       T*, const BatchNormShape&, const T*);                      \
  template void batch_norm_backward_input<T>(const T*, const T*, const T*, const T*, const T*,    \
                                             const T*, const T*, double, T*,                      \
                                             const BatchNormShape&);
DLFS_INSTANTIATE_BATCH_NORM(float)
DLFS_INSTANTIATE_BATCH_NORM(double)
#undef DLFS_INSTANTIATE_BATCH_NORM

}  // namespace dlfs::kernels::cpu
