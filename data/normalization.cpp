#include "dlfs/data/normalization.hpp"

#include <cmath>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

Normalization Normalization::fit(const Dataset& train) {
  check_dataset(train, "Normalization::fit");
  const std::int64_t n = train.images.numel();
  if (n == 0) throw InputError("Cannot compute a normalization over an empty training set.");
  const float* x = train.images.data<float>();
  // Two passes: the mean first, then squared deviations, which stays accurate where
  // E[x^2] - E[x]^2 would cancel.
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double squares = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    squares += d * d;
  }
  const double stddev = std::sqrt(squares / static_cast<double>(n));
  // Constant images have nothing to scale: centre them only, so that training still runs (and
  // shows what a model learns from the labels alone); `dlfs train` warns about such data.
  if (!(stddev > 0.0)) return {mean, 1.0};
  return {mean, stddev};
}

void Normalization::apply(Dataset& dataset) const {
  check_dataset(dataset, "Normalization::apply");
  if (!(stddev > 0.0)) throw Error("Normalization::apply: stddev must be positive");
  float* x = dataset.images.data<float>();
  const std::int64_t n = dataset.images.numel();
  const double scale = 1.0 / stddev;
  for (std::int64_t i = 0; i < n; ++i) x[i] = static_cast<float>((x[i] - mean) * scale);
}

}  // namespace dlfs::data
