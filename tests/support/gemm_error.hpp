#pragma once
// How far a float32 GEMM result is from the exact product, measured against the error bound of
// any summation order. For C = op(A) op(B) with inner dimension k, recursive summation in float
// obeys |c - exact| <= gamma_k * sum_l |a_il b_lj| with gamma_k ~ k u (u = 2^-24; Higham,
// "Accuracy and Stability of Numerical Algorithms", 3.1), whatever order, blocking or FMA use.
// normalised_error reports max |c - exact| / (u * sum_l |a_il b_lj|): at most k for any correct
// GEMM (in practice around sqrt(k)), while a transposed operand or a wrong leading dimension
// gives errors of order 1 / u.
#include <cmath>
#include <vector>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::testing {

struct GemmError {
  double normalised = 0.0;  // max over elements of |c - exact| / (u * sum |a b|)
  std::int64_t where = -1;
};

inline GemmError gemm_error(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                            const Tensor& c) {
  const std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>(),
                           cv = c.to_vector<float>();
  const std::int64_t m = c.shape()[0], n = c.shape()[1];
  const std::int64_t k = trans_a ? a.shape()[0] : a.shape()[1];
  const auto a_at = [&](std::int64_t i, std::int64_t l) {
    return static_cast<double>(trans_a ? av[l * m + i] : av[i * k + l]);
  };
  const auto b_at = [&](std::int64_t l, std::int64_t j) {
    return static_cast<double>(trans_b ? bv[j * k + l] : bv[l * n + j]);
  };
  const double u = std::ldexp(1.0, -24);
  GemmError e;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (std::int64_t l = 0; l < k; ++l) {
        exact += a_at(i, l) * b_at(l, j);
        magnitude += std::abs(a_at(i, l) * b_at(l, j));
      }
      const double got = cv[static_cast<std::size_t>(i * n + j)];
      const double r = magnitude == 0.0 ? (got == 0.0 ? 0.0 : INFINITY)
                                        : std::abs(got - exact) / (u * magnitude);
      if (!(r <= e.normalised)) {
        e.normalised = std::isnan(r) ? INFINITY : r;
        e.where = i * n + j;
      }
    }
  return e;
}

}  // namespace dlfs::testing
