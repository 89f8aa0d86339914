#pragma once
// Loss and correct-prediction counts of one batch, computed on the batch's device (only the two
// numbers come back to the host).
#include <cstdint>

#include "dlfs/models/model.hpp"

namespace dlfs::train {

struct BatchMetrics {
  double loss_sum = 0.0;  // summed (not mean) cross-entropy over the batch
  std::int64_t correct = 0;
};

// From logits [N, C] and int32 labels [N] (on any device).
BatchMetrics batch_metrics(const Tensor& logits, const Tensor& labels);

// Correct predictions of the last Train-mode forward, from the probabilities of the
// SoftmaxWithLoss over the logits (the loss node, or the one it sums with others).
std::int64_t training_batch_correct(Model& model, const Tensor& labels);

}  // namespace dlfs::train
