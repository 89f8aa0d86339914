#pragma once
// exp for float32 that the compiler can vectorise. glibc's expf is an opaque call, so a loop over
// it runs one element at a time (and its vector twin in libmvec is only used under -ffast-math).
// This is the Cephes expf: exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in
// [-ln2/2, ln2/2] (ln 2 split in two constants so n ln 2 is exact), exp(r) by a degree-7
// polynomial. Relative error < 1 ulp over [-87.3, 88.7] (tests/kernels/test_softmax_fast.cpp
// checks it against std::exp); below that it returns 0 (glibc: denormals), above it +inf;
// exp(-inf) = 0, exp(+inf) = +inf, NaN gives NaN. Every step is branch-free, so a
// loop over fast_exp compiles to SIMD code with the baseline x86-64 (SSE2); see select.hpp.
#include <cstdint>
#include <cstring>

#include "kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505f;  // ln(2^-126): the smallest normal result
  constexpr float kMax = 88.7228391117f;   // ln(FLT_MAX)
  // Adding 1.5 * 2^23 rounds to an integer (round to nearest even) and leaves it in the low
  // mantissa bits: n without a float->int conversion that SSE2 cannot vectorise with floor.
  constexpr float kRound = 12582912.0f;
  const float clamped = select(x < kMin, kMin, select(x > kMax, kMax, x));
  const float shifted = clamped * kLog2e + kRound;
  const float n = shifted - kRound;
  const float r = (clamped - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n from n's bits, as 2^a * 2^b with a = floor(n / 2), b = n - a: n is in [-126, 128] after
  // the clamp, and 2^128 (x near kMax, where p < 1 keeps the result finite) has no float.
  std::int32_t n_bits;
  std::memcpy(&n_bits, &shifted, sizeof n_bits);
  n_bits -= 0x4B400000;  // the bits of kRound: what is left is n
  const std::int32_t a = n_bits >> 1, b = n_bits - a;
  // Shifted as unsigned: for a NaN x the bits are garbage (the result is replaced below), and a
  // signed shift of garbage would be undefined behaviour.
  const std::uint32_t a_bits = static_cast<std::uint32_t>(a + 127) << 23;
  const std::uint32_t b_bits = static_cast<std::uint32_t>(b + 127) << 23;
  float scale_a, scale_b;
  std::memcpy(&scale_a, &a_bits, sizeof scale_a);
  std::memcpy(&scale_b, &b_bits, sizeof scale_b);
  float result = p * scale_a * scale_b;
  result = select(x < kMin, 0.0f, result);
  result = select(x > kMax, __builtin_inff(), result);
  return select(x != x, x, result);  // NaN stays NaN
}

// exp(d + tail) for d <= 0 (or NaN), where tail is a small correction to d (|tail| <= ulp(d)):
// softmax's exp(x - max) with x - max's float rounding error as tail (softmax_row.hpp). What
// d <= 0 allows makes it about twice as fast as fast_exp in softmax's loop: no clamp above, a
// single 2^n scale (n in [-126, 0] is always a normal float), and no NaN select (a NaN d gives
// NaN through the arithmetic). tail goes into the reduced argument r, costing one add instead
// of a multiply-add after the exponential; the result is within 1.5 ulp of exp(d + tail)
// (tests/kernels/test_softmax_fast.cpp). d < ln(2^-126) (-inf included) gives 0, whatever tail
// is (even NaN, as it is for d = -inf). A d > 0 gives garbage: callers have none, or (a NaN
// entry making max meaningless) a row that is NaN anyway.
inline float fast_exp_nonpositive(float d, float tail) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505f;  // ln(2^-126): the smallest normal result
  constexpr float kRound = 12582912.0f;    // 1.5 * 2^23, as in fast_exp
  const float clamped = select(d < kMin, kMin, d);
  const float shifted = clamped * kLog2e + kRound;
  const float n = shifted - kRound;
  const float r = ((clamped - n * kLn2Hi) - n * kLn2Lo) + tail;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n from n's bits. Computed as unsigned: for a NaN or positive d the bits are garbage (and
  // so is the result), and signed arithmetic on garbage could overflow.
  std::uint32_t n_bits;
  std::memcpy(&n_bits, &shifted, sizeof n_bits);
  const std::uint32_t scale_bits = (n_bits - 0x4B400000u + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return select(d < kMin, 0.0f, p * scale);
}

}  // namespace dlfs::kernels::cpu
