#pragma once
// CPU/GPU equivalence: the largest relative difference between two tensors of one shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::testing {

struct Difference {
  double max_relative = 0.0;  // |a - b| / max(|a|, |b|, floor)
  std::int64_t where = -1;
  double expected = 0.0, actual = 0.0;
};

// Compares float32 tensors on any devices (copied to the host). `floor` keeps elements near zero
// from dominating: there the comparison is absolute, |a - b| / floor.
inline Difference max_difference(const Tensor& expected, const Tensor& actual,
                                 double floor = 1e-3) {
  Difference d;
  const std::vector<float> e = expected.to_vector<float>();
  const std::vector<float> a = actual.to_vector<float>();
  for (std::size_t i = 0; i < e.size() && i < a.size(); ++i) {
    const double scale = std::max({std::abs(double(e[i])), std::abs(double(a[i])), floor});
    const double r = std::abs(double(e[i]) - double(a[i])) / scale;
    if (!(r <= d.max_relative)) {  // also catches NaN
      d.max_relative = std::isnan(r) ? INFINITY : r;
      d.where = static_cast<std::int64_t>(i);
      d.expected = e[i];
      d.actual = a[i];
    }
  }
  return d;
}

}  // namespace dlfs::testing

#define EXPECT_TENSORS_CLOSE(EXPECTED_, ACTUAL_, TOLERANCE_)                             \
  do {                                                                                   \
    const ::dlfs::Tensor e_ = (EXPECTED_); /* a copy: the argument may be a temporary */ \
    const ::dlfs::Tensor a_ = (ACTUAL_);                                                 \
    ASSERT_EQ(e_.shape(), a_.shape()) << e_.str() << " vs " << a_.str();                 \
    const auto d_ = ::dlfs::testing::max_difference(e_, a_);                             \
    EXPECT_LE(d_.max_relative, (TOLERANCE_))                                             \
        << "at [" << d_.where << "]: expected " << d_.expected << ", got " << d_.actual; \
  } while (0)
