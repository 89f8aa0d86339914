#pragma once
// A validation set taken out of the training set, as the book does for hyperparameter search:
// a seeded permutation picks floor(fraction * N) samples for validation and leaves the rest for
// training. Both keep the samples' original order, so `--shuffle off` still means file order.
#include <cstdint>

#include "dlfs/data/dataset.hpp"

namespace dlfs::data {

struct TrainValidationSplit {
  Dataset train;
  Dataset validation;
};

// fraction in [0, 1); throws InputError otherwise. The same (dataset, fraction, seed) always
// gives the same split.
TrainValidationSplit split_validation(const Dataset& dataset, double fraction, std::uint64_t seed);

}  // namespace dlfs::data
