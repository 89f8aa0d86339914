#pragma once
// select(cond, a, b) = cond ? a : b, written with integer masks so that GCC vectorises the loops
// that use it. With the default -ftrapping-math, GCC does not if-convert `x < y ? a : b` on
// floats (the comparison might trap), so such a loop stays scalar even under `#pragma omp simd`;
// a bool from the comparison turned into an all-ones/zero mask has no such problem.
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace dlfs::kernels::cpu {

template <typename T>
using SameSizeInt = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// The bits of a where `mask` is all ones and of b where it is zero; Mask is an integer (or an
// integer vector) of T's size. The float vectors of kernels/cpu/max_pool.cpp use it directly.
template <typename Mask, typename T>
inline T select_bits(Mask mask, T a, T b) {
  static_assert(sizeof(Mask) == sizeof(T));
  Mask a_bits, b_bits;
  std::memcpy(&a_bits, &a, sizeof a);
  std::memcpy(&b_bits, &b, sizeof b);
  const Mask bits = (a_bits & mask) | (b_bits & ~mask);
  T result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

template <typename T>
inline T select(bool cond, T a, T b) {
  static_assert(std::is_floating_point_v<T> && (sizeof(T) == 4 || sizeof(T) == 8));
  using Int = SameSizeInt<T>;
  return select_bits(-static_cast<Int>(cond), a, b);
}

// The same for an int32 (e.g. an argmax index chosen by a float comparison).
inline std::int32_t select(bool cond, std::int32_t a, std::int32_t b) {
  const std::int32_t mask = -static_cast<std::int32_t>(cond);
  return (a & mask) | (b & ~mask);
}

}  // namespace dlfs::kernels::cpu
