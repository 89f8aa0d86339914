#pragma once
// Inputs for gradient checks through max pooling: distinct values far apart, so a central
// difference of step h << 0.01 never moves an element past another and changes an argmax
// (Caffe's reason for skipping kinks, avoided here by construction).
#include <algorithm>
#include <numeric>

#include "dlfs/runtime/generator.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::testing {

// A float64 host tensor holding a random permutation of 0 .. n-1, centred on zero, times 0.01,
// plus noise below 1e-4 (so the values are not on a regular grid).
inline Tensor pooling_distinct_values(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  const std::int64_t n = shape.numel();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (std::int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(gen.below(static_cast<std::uint64_t>(i + 1)))]);
  Tensor t = Tensor::empty(shape, DType::Float64);
  double* p = t.data<double>();
  for (std::int64_t i = 0; i < n; ++i)
    p[i] = 0.01 * (static_cast<double>(order[static_cast<std::size_t>(i)]) - n / 2.0) +
           1e-4 * gen.uniform();
  return t;
}

}  // namespace dlfs::testing
