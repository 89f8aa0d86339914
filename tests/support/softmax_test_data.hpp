#pragma once
// Inputs for the softmax / cross-entropy / loss tests: logits, class labels and their one-hot
// rows, all on the host.
#include <cmath>
#include <cstdint>
#include <vector>

#include "dlfs/runtime/generator.hpp"
#include "dlfs/runtime/tensor.hpp"

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

// The hand-computed softmax-with-loss case, shared by the kernel and layer tests:
//   row 0: logits [0, log 3] -> probabilities [1/4, 3/4], label 1: loss -log(3/4);
//   row 1: logits [2, 2]     -> probabilities [1/2, 1/2], label 0: loss log 2.
// The loss is the mean over the 2 rows; the gradient is (y - t) / N * dloss.
struct SoftmaxLossHandCase {
  static constexpr std::int64_t kRows = 2, kClasses = 2;
  std::vector<double> logits = {0.0, std::log(3.0), 2.0, 2.0};
  std::vector<std::int32_t> labels = {1, 0};
  double loss = (-std::log(0.75) + std::log(2.0)) / 2;
  std::vector<double> probabilities = {0.25, 0.75, 0.5, 0.5};
  std::vector<double> targets = {0.0, 1.0, 1.0, 0.0};  // labels as one-hot rows
  std::vector<double> gradient(double dloss) const {
    std::vector<double> g(probabilities.size());
    for (std::size_t i = 0; i < g.size(); ++i)
      g[i] = (probabilities[i] - targets[i]) / kRows * dloss;
    return g;
  }
  Tensor logits_tensor(DType dtype) const {
    return Tensor::from_vector<double>(logits, {kRows, kClasses}).to(dtype);
  }
  Tensor labels_tensor() const { return Tensor::from_vector(labels, {kRows}); }
};

}  // namespace dlfs::testing
