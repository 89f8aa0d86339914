#pragma once
// Counter-based random numbers: the i-th number of a stream is a pure function of (seed, i),
// so the CPU and a CUDA kernel draw identical numbers, in any order and on any machine.
// The mixer is SplitMix64 (Steele, Lea, Flood 2014), which passes BigCrush.
#include <cstdint>

#if defined(__CUDACC__)
#define DLFS_HOST_DEVICE __host__ __device__
#else
#define DLFS_HOST_DEVICE
#endif

namespace dlfs::rng {

DLFS_HOST_DEVICE inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The counter-th 64-bit word of the stream named by seed.
DLFS_HOST_DEVICE inline std::uint64_t bits(std::uint64_t seed, std::uint64_t counter) {
  return mix64(mix64(seed) + (counter + 1) * 0x9E3779B97F4A7C15ull);
}

// Uniform in [0, 1) with 24 random bits: every float32 it returns is exact.
DLFS_HOST_DEVICE inline float uniform_float(std::uint64_t seed, std::uint64_t counter) {
  return static_cast<float>(bits(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

// Uniform in [0, 1) with 53 random bits.
DLFS_HOST_DEVICE inline double uniform_double(std::uint64_t seed, std::uint64_t counter) {
  return static_cast<double>(bits(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace dlfs::rng
