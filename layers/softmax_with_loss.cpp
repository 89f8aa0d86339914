#include "dlfs/layers/softmax_with_loss.hpp"

#include "dlfs/kernels/softmax_with_loss.hpp"

namespace dlfs {

Tensor SoftmaxWithLoss::forward(const std::vector<Tensor>& inputs, Mode mode) {
  if (inputs.size() != 2)
    throw Error("SoftmaxWithLoss takes two inputs (logits, targets), got " +
                std::to_string(inputs.size()));
  targets_ = Tensor();
  Tensor loss = kernels::softmax_with_loss_forward(inputs[0], inputs[1], &probabilities_);
  if (mode == Mode::Train) targets_ = inputs[1];
  return loss;
}

std::vector<Tensor> SoftmaxWithLoss::backward(const Tensor& grad_output) {
  if (!targets_.defined())
    throw Error("SoftmaxWithLoss::backward called without a Train-mode forward");
  return {kernels::softmax_with_loss_backward(probabilities_, targets_, grad_output), Tensor()};
}

}  // namespace dlfs
