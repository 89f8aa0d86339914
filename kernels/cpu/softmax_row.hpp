#pragma once
// One row of a softmax, shared by softmax.cpp and softmax_with_loss.cpp:
//   max m = max(row) (NaN entries are skipped here and turn the row NaN below),
//   out[c] = exp(row[c] - m) (stored, so each exponential is computed once), sum = sum(out),
//   out[c] /= sum.
// float rows use fast_exp (vectorised, < 1 ulp) on the exact difference x - m (see
// exp_and_sum) and a double sum of the float exponentials;
// double rows use std::exp and a sequential double sum, so the float64 reference keeps its
// digits. Either way a row is computed by one thread in a fixed order: repeatable bit for bit.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/fast_exp.hpp"
#include "kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

struct SoftmaxRowStats {
  double max;      // m, the row's largest entry
  double log_sum;  // log(sum(exp(row - m)))
};

template <typename T>
inline T row_max(const T* row, std::int64_t cols) {
  // Eight independent running maxima (vectorisable; max is exact, so their order is irrelevant).
  constexpr int kLanes = 8;
  T lanes[kLanes];
  for (int l = 0; l < kLanes; ++l) lanes[l] = -std::numeric_limits<T>::infinity();
  std::int64_t c = 0;
  for (; c + kLanes <= cols; c += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = select(lanes[l] < row[c + l], row[c + l], lanes[l]);
  T max = -std::numeric_limits<T>::infinity();
  for (; c < cols; ++c) max = select(max < row[c], row[c], max);
  for (int l = 0; l < kLanes; ++l) max = select(max < lanes[l], lanes[l], max);
  return max;
}

inline double exp_and_sum(const float* row, float* out, std::int64_t cols, float max) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t c = 0; c < cols; ++c) {
    // row[c] - max rounded to float would cost up to |row[c] - max| * 2^-24 of relative error
    // in the exponential (2e-6 at a distance of 40): take its rounding error `tail` exactly
    // (Knuth's TwoSum) and apply it as exp(d + tail) = exp(d) (1 + tail). Where d is infinite or
    // NaN, tail is NaN and is dropped (exp(d) is then 0, inf or NaN already).
    const float x = row[c], d = x - max;
    const float x_part = d + max;  // the part of d that came from x
    float tail = (x - x_part) + (-max - (d - x_part));
    tail = select(tail == tail, tail, 0.0f);
    const float exp_d = fast_exp(d);
    const float e = exp_d + exp_d * tail;
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
inline SoftmaxRowStats softmax_row(const T* row, T* out, std::int64_t cols) {
  const T max = row_max(row, cols);
  const double sum = exp_and_sum(row, out, cols, max);
  const T divisor = static_cast<T>(sum);
#pragma omp simd
  for (std::int64_t c = 0; c < cols; ++c) out[c] = out[c] / divisor;
  return {static_cast<double>(max), std::log(sum)};
}

}  // namespace dlfs::kernels::cpu
