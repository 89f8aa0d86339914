#pragma once
// Inputs for the softmax / cross-entropy / loss tests: logits, class labels and their one-hot
// rows, all on the host.
#include <cstdint>
#include <vector>

#include "runtime/generator.hpp"
#include "runtime/tensor.hpp"

namespace dlfs::testing {

// [rows, cols] float32 (or float64) with N(0, scale^2) entries.
inline Tensor random_logits(std::int64_t rows, std::int64_t cols, Generator& gen,
                            double scale = 1.0, DType dtype = DType::Float32) {
  Tensor t = Tensor::empty({rows, cols}, dtype);
  t.normal_(gen, 0.0, scale);
  return t;
}

// Int32 [rows] uniform in [0, classes).
inline Tensor random_labels(std::int64_t rows, std::int64_t classes, Generator& gen) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(rows));
  for (auto& label : v) label = static_cast<std::int32_t>(gen.below(classes));
  return Tensor::from_vector(v, {rows});
}

// [rows, classes] rows of zeros with a one at each label.
inline Tensor one_hot(const Tensor& labels, std::int64_t classes, DType dtype = DType::Float32) {
  const std::vector<std::int32_t> l = labels.to_vector<std::int32_t>();
  const auto rows = static_cast<std::int64_t>(l.size());
  std::vector<double> v(static_cast<std::size_t>(rows * classes), 0.0);
  for (std::int64_t n = 0; n < rows; ++n) v[n * classes + l[n]] = 1.0;
  Tensor t = Tensor::from_vector(v, {rows, classes});
  return dtype == DType::Float64 ? t : t.to(dtype);
}

// [rows, classes] rows of positive weights summing to 1 (soft targets).
inline Tensor random_distributions(std::int64_t rows, std::int64_t classes, Generator& gen,
                                   DType dtype = DType::Float32) {
  std::vector<double> v(static_cast<std::size_t>(rows * classes));
  for (std::int64_t n = 0; n < rows; ++n) {
    double sum = 0.0;
    for (std::int64_t c = 0; c < classes; ++c) sum += v[n * classes + c] = gen.uniform() + 0.01;
    for (std::int64_t c = 0; c < classes; ++c) v[n * classes + c] /= sum;
  }
  Tensor t = Tensor::from_vector(v, {rows, classes});
  return dtype == DType::Float64 ? t : t.to(dtype);
}

}  // namespace dlfs::testing
