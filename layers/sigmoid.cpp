#include "dlfs/layers/sigmoid.hpp"

#include "dlfs/kernels/sigmoid.hpp"

namespace dlfs {

Tensor Sigmoid::forward(const std::vector<Tensor>& inputs, Mode mode) {
  Tensor y = kernels::sigmoid_forward(single_input(inputs, "Sigmoid"));
  output_ = mode == Mode::Train ? y : Tensor();
  return y;
}

std::vector<Tensor> Sigmoid::backward(const Tensor& grad_output) {
  if (!output_.defined()) throw Error("Sigmoid::backward called without a Train-mode forward");
  return {kernels::sigmoid_backward(grad_output, output_)};
}

}  // namespace dlfs
