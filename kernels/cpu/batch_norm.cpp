#include <cmath>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

namespace {
// Calls f(value_pointer_offset) for every element of channel c, in (n, s) order.
template <typename F>
void for_channel(const BatchNormShape& s, std::int64_t c, F&& f) {
  for (std::int64_t n = 0; n < s.batch; ++n) {
    const std::int64_t start = (n * s.channels + c) * s.spatial;
    for (std::int64_t k = 0; k < s.spatial; ++k) f(start + k);
  }
}

// The sum of term(i) over channel c, in double, in an order fixed by the shape: eight running
// sums, element k of each image's plane going to sum k % 8, added in order at the end. A single
// running sum made every step wait for the one before (an add's latency per element); eight
// independent ones let the compiler keep them in vector registers.
// sum_channel2 makes two such sums in one pass.
constexpr int kLanes = 8;
template <typename Term>
double sum_channel(const BatchNormShape& s, std::int64_t c, Term&& term) {
  double lanes[kLanes] = {};
  for (std::int64_t n = 0; n < s.batch; ++n) {
    const std::int64_t start = (n * s.channels + c) * s.spatial;
    std::int64_t k = 0;
    for (; k + kLanes <= s.spatial; k += kLanes)
      for (int j = 0; j < kLanes; ++j) lanes[j] += term(start + k + j);
    for (; k < s.spatial; ++k) lanes[k % kLanes] += term(start + k);
  }
  double total = 0.0;
  for (double lane : lanes) total += lane;
  return total;
}

template <typename TermA, typename TermB>
void sum_channel2(const BatchNormShape& s, std::int64_t c, TermA&& term_a, TermB&& term_b,
                  double& total_a, double& total_b) {
  double a[kLanes] = {}, b[kLanes] = {};
  for (std::int64_t n = 0; n < s.batch; ++n) {
    const std::int64_t start = (n * s.channels + c) * s.spatial;
    std::int64_t k = 0;
    for (; k + kLanes <= s.spatial; k += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        a[j] += term_a(start + k + j);
        b[j] += term_b(start + k + j);
      }
    for (; k < s.spatial; ++k) {
      a[k % kLanes] += term_a(start + k);
      b[k % kLanes] += term_b(start + k);
    }
  }
  total_a = total_b = 0.0;
  for (int j = 0; j < kLanes; ++j) {
    total_a += a[j];
    total_b += b[j];
  }
}
}  // namespace

// Each channel is handled by one thread; sums are in double and in a fixed order (sum_channel),
// so the CPU path is repeatable bit for bit at any thread count and serves as the float32
// reference. Variance is two-pass.
template <typename T>
void batch_norm_train_forward(const T* x, const T* gamma, const T* beta, T* y, T* running_mean,
                              T* running_var, T* save_mean, T* save_invstd,
                              std::int64_t* batches_tracked, const BatchNormShape& s,
                              double momentum, double eps) {
  const double count = static_cast<double>(s.per_channel());
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const double sum = sum_channel(s, c, [&](std::int64_t i) { return double{x[i]}; });
    const double mean = sum / count;
    const double squares = sum_channel(s, c, [&](std::int64_t i) {
      const double d = x[i] - mean;
      return d * d;
    });
    const double var = squares / count;  // biased: used to normalize
    const T mean_t = static_cast<T>(mean);
    const T invstd = static_cast<T>(1.0 / std::sqrt(var + eps));
    save_mean[c] = mean_t;
    save_invstd[c] = invstd;
    const double unbiased = squares / (count - 1.0);
    running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mean);
    running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] + momentum * unbiased);
    const T g = gamma[c], b = beta[c];
    for_channel(s, c, [&](std::int64_t i) { y[i] = (x[i] - mean_t) * invstd * g + b; });
  }
  if (batches_tracked) *batches_tracked += 1;
}

template <typename T>
void batch_norm_inference_forward(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                  const T* running_var, T* y, const BatchNormShape& s, double eps,
                                  bool relu, const T* bias) {
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T mean = running_mean[c];
    const T invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
    const T g = gamma[c], b = beta[c];
    // input(i): the value normalised. Without a bias it is x[i] itself, not x[i] + 0 (which
    // would turn -0 into +0).
    const auto normalise = [&](auto input) {
      if (relu) {
        for_channel(s, c, [&](std::int64_t i) {
          const T v = (input(i) - mean) * invstd * g + b;
          y[i] = select(v > T(0), v, T(0));
        });
      } else {
        for_channel(s, c, [&](std::int64_t i) { y[i] = (input(i) - mean) * invstd * g + b; });
      }
    };
    if (bias) {
      const T added = bias[c];
      normalise([&](std::int64_t i) { return x[i] + added; });
    } else {
      normalise([&](std::int64_t i) { return x[i]; });
    }
  }
}

template <typename T>
void batch_norm_backward(const T* dy, const T* x, const T* gamma, const T* save_mean,
                         const T* save_invstd, T* dx, T* dgamma, T* dbeta,
                         const BatchNormShape& s) {
  const T count = static_cast<T>(s.per_channel());
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    sum_channel2(
        s, c, [&](std::int64_t i) { return double{dy[i]}; },
        [&](std::int64_t i) {
          return static_cast<double>(dy[i]) * static_cast<double>((x[i] - mean) * invstd);
        },
        sum_dy, sum_dy_xhat);
    const T db = static_cast<T>(sum_dy), dg = static_cast<T>(sum_dy_xhat);
    dbeta[c] = db;
    dgamma[c] = dg;
    const T scale = gamma[c] * invstd, mean_dy = db / count, mean_dy_xhat = dg / count;
    for_channel(s, c, [&](std::int64_t i) {
      const T xhat = (x[i] - mean) * invstd;
      dx[i] = scale * (dy[i] - mean_dy - xhat * mean_dy_xhat);
    });
  }
}

template <typename T>
void batch_norm_backward_input(const T* dy, const T* x, const T* gamma, const T* save_mean,
                               const T* save_invstd, const T* dgamma, const T* dbeta, double count,
                               T* dx, const BatchNormShape& s) {
  const T m = static_cast<T>(count);
#pragma omp parallel for if (s.numel() > 65536)
  for (std::int64_t c = 0; c < s.channels; ++c) {
    const T mean = save_mean[c], invstd = save_invstd[c];
    const T scale = gamma[c] * invstd, mean_dy = dbeta[c] / m, mean_dy_xhat = dgamma[c] / m;
    for_channel(s, c, [&](std::int64_t i) {
      const T xhat = (x[i] - mean) * invstd;
      dx[i] = scale * (dy[i] - mean_dy - xhat * mean_dy_xhat);
    });
  }
}

#define DLFS_INSTANTIATE_BATCH_NORM(T)                                                             \
  template void batch_norm_train_forward<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*,      \
                                            std::int64_t*, const BatchNormShape&, double, double); \
  template void batch_norm_inference_forward<T>(const T*, const T*, const T*, const T*, const T*,  \
                                                T*, const BatchNormShape&, double, bool,           \
                                                const T*);                                         \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,   \
                                       T*, const BatchNormShape&);                                 \
  template void batch_norm_backward_input<T>(const T*, const T*, const T*, const T*, const T*,     \
                                             const T*, const T*, double, T*,                       \
                                             const BatchNormShape&);
DLFS_INSTANTIATE_BATCH_NORM(float)
DLFS_INSTANTIATE_BATCH_NORM(double)
#undef DLFS_INSTANTIATE_BATCH_NORM

}  // namespace dlfs::kernels::cpu
