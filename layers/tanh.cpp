#include "dlfs/layers/tanh.hpp"

#include "dlfs/kernels/tanh.hpp"

namespace dlfs {

Tensor Tanh::forward(const std::vector<Tensor>& inputs, Mode mode) {
  Tensor y = kernels::tanh_forward(single_input(inputs, "Tanh"));
  output_ = mode == Mode::Train ? y : Tensor();
  return y;
}

std::vector<Tensor> Tanh::backward(const Tensor& grad_output) {
  if (!output_.defined()) throw Error("Tanh::backward called without a Train-mode forward");
  return {kernels::tanh_backward(grad_output, output_)};
}

}  // namespace dlfs
