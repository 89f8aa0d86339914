#pragma once
// Seeded shuffling: Fisher-Yates over the dataset's indices with Generator::below, so one seed
// gives one order on every machine.
#include <cstdint>
#include <vector>

#include "dlfs/runtime/generator.hpp"

namespace dlfs::data {

// 0, 1, ..., n - 1.
std::vector<std::int64_t> identity_order(std::int64_t n);
// Shuffles `order` in place (Fisher-Yates: for i from the end, swap with a uniform j <= i).
void shuffle_in_place(std::vector<std::int64_t>& order, Generator& gen);
// A uniformly random permutation of 0..n-1.
std::vector<std::int64_t> shuffled_order(std::int64_t n, Generator& gen);

}  // namespace dlfs::data
