#pragma once
// exp for float32 that the compiler can vectorise, for softmax. glibc's expf is an opaque call, so
// a loop over it runs one element at a time (and its vector twin in libmvec is only used under
// -ffast-math). This is the Cephes expf: exp(x) = 2^n * exp(r), n = round(x / ln 2),
// r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split in two constants so n ln 2 is exact), exp(r) by a
// degree-7 polynomial, < 1 ulp. Every step is branch-free, so a loop over it compiles to SIMD
// code with the baseline x86-64 (SSE2); see select.hpp.
//
// softmax only needs exp(x - max), whose argument d is <= 0, and wants x - max's float rounding
// error `tail` applied too (softmax_row.hpp). That allows a cheaper function than a general expf:
// no clamp above, a single 2^n scale (n in [-126, 0] is always a normal float), no NaN select
// (a NaN d gives NaN through the arithmetic), and tail goes into the reduced argument r (one add
// instead of a multiply-add after the exponential). The result is within 1.5 ulp of
// exp(d + tail), and within 1 ulp of exp(d) when tail is 0 (tests/kernels/test_softmax_fast.cpp
// checks both against std::exp in double). d < ln(2^-126) (-inf included) gives 0 whatever tail
// is (even NaN, as it is for d = -inf). A d > 0 gives garbage: callers have none, or (a NaN entry
// making max meaningless) a row that is NaN anyway.
#include <cstdint>
#include <cstring>

#include "dlfs/kernels/cpu/select.hpp"

namespace dlfs::kernels::cpu {

inline float fast_exp_nonpositive(float d, float tail) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505f;  // ln(2^-126): the smallest normal result
  // Adding 1.5 * 2^23 rounds to an integer (round to nearest even) and leaves it in the low
  // mantissa bits: n without a float->int conversion that SSE2 cannot vectorise with floor.
  constexpr float kRound = 12582912.0f;
  constexpr std::uint32_t kRoundBits = 0x4B400000u;  // the bits of kRound
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
  const std::uint32_t scale_bits = (n_bits - kRoundBits + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return select(d < kMin, 0.0f, p * scale);
}

}  // namespace dlfs::kernels::cpu
