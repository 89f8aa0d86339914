#pragma once
// CPU/GPU comparison for batch normalization, where the right floor for "near zero" depends on
// the quantity. The GPU reduces in float32 in another order than the CPU (double sums), so its
// statistics differ by a few float32 ulps; every result built on them then differs by a few ulps
// of its largest intermediate term, not of itself:
//   - normalized outputs, dx, means, 1/std: terms are O(1) for O(1) inputs, so floor = 1;
//   - dgamma = sum(dy * x_hat), dbeta = sum(dy): M terms of O(1) that can cancel, so floor = M
//     (a mean shift of 1 ulp moves dgamma by about ulp * sum(dy), i.e. relative to M, not to
//     dgamma, which may be small).
// With these floors the measured differences (an emulation of the GPU summation order) stay
// below 1e-6; tests allow 1e-5.
#include <gtest/gtest.h>

#include "support/equivalence.hpp"

namespace dlfs::testing {

// |expected - actual| <= tolerance * max(|expected|, |actual|, floor) for every element.
inline ::testing::AssertionResult batch_norm_close(const Tensor& expected, const Tensor& actual,
                                                   double tolerance, double floor) {
  if (expected.shape() != actual.shape())
    return ::testing::AssertionFailure() << expected.str() << " vs " << actual.str();
  const Difference d = max_difference(expected, actual, floor);
  if (d.max_relative <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "at [" << d.where << "]: expected " << d.expected << ", got " << d.actual
         << " (relative difference " << d.max_relative << " > " << tolerance << ", floor " << floor
         << ")";
}

}  // namespace dlfs::testing
