#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "dlfs/kernels/shuffle.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed,
                                      const Device& device = Device::cpu()) {
  Tensor p = random_permutation(n, seed, device);
  EXPECT_EQ(p.dtype(), DType::Int64);
  EXPECT_EQ(p.shape(), Shape({n}));
  return p.to_vector<std::int64_t>();
}

TEST(RandomPermutation, HoldsEveryIndexOnce) {
  for (std::int64_t n : {0, 1, 2, 1000, 60000}) {
    std::vector<std::int64_t> p = permutation(n, 42);
    std::sort(p.begin(), p.end());
    std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(p, expected) << n;
  }
}

TEST(RandomPermutation, TheSeedFixesThePermutation) {
  EXPECT_EQ(permutation(1000, 42), permutation(1000, 42));
  EXPECT_NE(permutation(1000, 42), permutation(1000, 43));
  // It shuffles: a random permutation has one fixed point on average.
  const std::vector<std::int64_t> p = permutation(1000, 42);
  std::int64_t fixed = 0;
  for (std::int64_t i = 0; i < 1000; ++i) fixed += p[i] == i;
  EXPECT_LT(fixed, 10);
}

TEST(RandomPermutation, AllOrdersOfFourAreEquallyLikely) {
  // 24 orders over 24000 seeds: 1000 expected each. Chi-square with 23 degrees of freedom
  // exceeds 49.7 with probability 0.001.
  std::map<std::vector<std::int64_t>, int> counts;
  const int trials = 24000;
  for (int seed = 0; seed < trials; ++seed) counts[permutation(4, seed)] += 1;
  EXPECT_EQ(counts.size(), 24u);
  double chi_square = 0.0;
  for (const auto& [order, count] : counts)
    chi_square += (count - 1000.0) * (count - 1000.0) / 1000;
  EXPECT_LT(chi_square, 49.7);
}

TEST(RandomPermutation, RejectsNegativeLength) {
  EXPECT_THROW(random_permutation(-1, 0), Error);
}

TEST(RandomPermutationGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  // Counter-based keys and a stable sort: the same permutation on both devices.
  for (std::int64_t n : {1LL, 1000LL, (1LL << 20) + 7}) {
    EXPECT_EQ(permutation(n, 2024, Device::cuda()), permutation(n, 2024)) << n;
  }
  EXPECT_TRUE(permutation(0, 1, Device::cuda()).empty());
}

}  // namespace
}  // namespace dlfs::kernels
