#pragma once
// Helpers for the elementwise kernel and layer tests (sigmoid, tanh, add, scale, dropout,
// flatten, affine).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "dlfs/runtime/generator.hpp"
#include "dlfs/runtime/tensor.hpp"
#include "support/equivalence.hpp"

namespace dlfs::testing {

// A host tensor (float32 unless told) with N(0, stddev^2) entries drawn from Generator(seed).
inline Tensor random_normal(const Shape& shape, std::uint64_t seed, double stddev = 1.0,
                            DType dtype = DType::Float32) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, dtype);
  t.normal_(gen, 0.0, stddev);
  return t;
}

// Number of positions where two equally long sequences differ (prints better than EXPECT_EQ on
// vectors of millions of elements).
template <typename T>
std::int64_t count_mismatches(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return -1;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += !(a[i] == b[i]);
  return n;
}

// Root mean square of a float32 tensor's elements.
inline double rms(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  double s = 0.0;
  for (float x : v) s += double(x) * double(x);
  return v.empty() ? 0.0 : std::sqrt(s / double(v.size()));
}

// Passes when every |expected - actual| <= tolerance * max(|expected|, |actual|, scale). For
// results whose rounding error is bounded by the size of their ingredients rather than by their
// own size (a dot product that cancels, 1 - y near saturation), `scale` is the size of those
// ingredients and elements far below it are compared absolutely.
inline ::testing::AssertionResult close_at_scale(const Tensor& expected, const Tensor& actual,
                                                 double scale, double tolerance) {
  if (expected.shape() != actual.shape())
    return ::testing::AssertionFailure() << expected.str() << " vs " << actual.str();
  const Difference d = max_difference(expected, actual, scale);
  if (d.max_relative <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "difference " << d.max_relative << " > " << tolerance << " (scale " << scale << ") at ["
         << d.where << "]: expected " << d.expected << ", got " << d.actual;
}

}  // namespace dlfs::testing
