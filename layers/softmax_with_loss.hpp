#pragma once
// The book's SoftmaxWithLoss, the last layer of a classifier in training: inputs are the logits
// [N, C] and the targets (Int32 labels [N] or a float [N, C] distribution, one-hot or soft);
// the output is the mean cross-entropy loss as a [1] tensor on the logits' device.
// backward(dloss) returns {(softmax(logits) - t) / N * dloss, undefined for the targets}.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class SoftmaxWithLoss : public Layer {
 public:
  std::string type() const override { return "SoftmaxWithLoss"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

  // softmax(logits) of the last forward, in either mode (the class probabilities a classifier
  // reports); undefined before the first forward.
  const Tensor& probabilities() const { return probabilities_; }

 private:
  Tensor probabilities_;
  Tensor targets_;  // kept only after a Train-mode forward
};

}  // namespace dlfs
