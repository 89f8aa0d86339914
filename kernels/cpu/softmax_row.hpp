#pragma once
// One row of a softmax, shared by softmax.cpp and softmax_with_loss.cpp:
//   max m = max(row) (a NaN entry makes the whole row NaN),
//   out[c] = exp(row[c] - m) (stored, so each exponential is computed once), sum = sum(out),
//   out[c] /= sum.
// float rows use fast_exp_nonpositive (vectorised, < 1.5 ulp) on the exact difference x - m (see
// exp_and_sum) and a double sum of the float exponentials;
// double rows use std::exp and a sequential double sum, so the float64 reference keeps its
// digits. Either way a row is computed by one thread in a fixed order: repeatable bit for bit.
#include <cmath>
#include <cstdint>
#include <limits>

#include "dlfs/kernels/cpu/fast_exp.hpp"
#include "dlfs/kernels/cpu/simd_clones.hpp"

namespace dlfs::kernels::cpu {

struct SoftmaxRowStats {
  double max;      // m, the row's largest entry
  double log_sum;  // log(sum(exp(row - m)))
};

template <typename T>
inline T row_max(const T* row, std::int64_t cols) {
  // A vectorised max reduction. Which value a NaN entry leaves here does not matter: the NaN
  // itself (or a NaN max) turns the row's sum, hence the whole row, into NaN below.
  T max = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : max)
  for (std::int64_t c = 0; c < cols; ++c) max = row[c] > max ? row[c] : max;
  return max;
}

inline double exp_and_sum(const float* row, float* out, std::int64_t cols, float max) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t c = 0; c < cols; ++c) {
    // row[c] - max rounded to float would cost up to |row[c] - max| * 2^-24 of relative error
    // in the exponential (2e-6 at a distance of 40): take its rounding error `tail` exactly
    // (Knuth's TwoSum) and let fast_exp_nonpositive compute exp(d + tail). Where d is infinite
    // or NaN, tail is NaN and the result is 0 (d = -inf) or NaN, as exp(d) alone would be.
    const float x = row[c], d = x - max;
    const float x_part = d + max;  // the part of d that came from x
    const float tail = (x - x_part) + (-max - (d - x_part));
    const float e = fast_exp_nonpositive(d, tail);
    out[c] = e;
    sum += static_cast<double>(e);
  }
  return sum;
}

inline double exp_and_sum(const double* row, double* out, std::int64_t cols, double max) {
  double sum = 0.0;
  for (std::int64_t c = 0; c < cols; ++c) {
    out[c] = std::exp(row[c] - max);
    sum += out[c];
  }
  return sum;
}

template <typename T>
inline SoftmaxRowStats softmax_row_body(const T* row, T* out, std::int64_t cols) {
  const T max = row_max(row, cols);
  const double sum = exp_and_sum(row, out, cols, max);
  // One rounded reciprocal and a multiply per entry: a vector divide costs several times more.
  const T inverse = static_cast<T>(1.0 / sum);
#pragma omp simd
  for (std::int64_t c = 0; c < cols; ++c) out[c] = out[c] * inverse;
  return {static_cast<double>(max), std::log(sum)};
}

// The float row is compute-bound (the exponentials): compiled for AVX-512, AVX2 and SSE2, the
// CPU's best one chosen at load time (simd_clones.hpp). Defined once, in softmax.cpp.
SoftmaxRowStats softmax_row_float(const float* row, float* out, std::int64_t cols);

inline SoftmaxRowStats softmax_row(const float* row, float* out, std::int64_t cols) {
  return softmax_row_float(row, out, cols);
}
inline SoftmaxRowStats softmax_row(const double* row, double* out, std::int64_t cols) {
  return softmax_row_body(row, out, cols);
}

}  // namespace dlfs::kernels::cpu
