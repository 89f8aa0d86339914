#include "dlfs/data/validation_split.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "dlfs/data/shuffle.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

TrainValidationSplit split_validation(const Dataset& dataset, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw InputError("The validation fraction must be in [0, 1), not " + std::to_string(fraction) +
                     ".");
  check_dataset(dataset, "split_validation");
  const std::int64_t n = dataset.size();
  const auto n_validation =
      static_cast<std::int64_t>(std::floor(fraction * static_cast<double>(n)));
  Generator gen(seed);
  std::vector<std::int64_t> order = shuffled_order(n, gen);
  std::vector<std::int64_t> validation(order.begin(), order.begin() + n_validation);
  std::vector<std::int64_t> train(order.begin() + n_validation, order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  return {dataset.select(train), dataset.select(validation)};
}

}  // namespace dlfs::data
