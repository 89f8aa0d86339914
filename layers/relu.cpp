#include "dlfs/layers/relu.hpp"

#include "dlfs/kernels/relu.hpp"

namespace dlfs {

Tensor ReLU::forward(const std::vector<Tensor>& inputs, Mode mode) {
  Tensor mask;
  Tensor y = kernels::relu_forward(single_input(inputs, "ReLU"), &mask);
  mask_ = mode == Mode::Train ? mask : Tensor();
  return y;
}

std::vector<Tensor> ReLU::backward(const Tensor& grad_output) {
  if (!mask_.defined()) throw Error("ReLU::backward called without a Train-mode forward");
  return {kernels::relu_backward(grad_output, mask_)};
}

}  // namespace dlfs
