#include <algorithm>
#include <numeric>

#include "dlfs/kernels/shuffle.hpp"
#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs::kernels::cpu {

void random_permutation(std::int64_t* indices, std::uint64_t* keys, std::int64_t n,
                        std::uint64_t seed) {
  for (std::int64_t i = 0; i < n; ++i) keys[i] = rng::bits(seed, static_cast<std::uint64_t>(i));
  std::iota(indices, indices + n, std::int64_t{0});
  std::stable_sort(indices, indices + n,
                   [keys](std::int64_t a, std::int64_t b) { return keys[a] < keys[b]; });
}

}  // namespace dlfs::kernels::cpu
