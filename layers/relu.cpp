#include "dlfs/layers/relu.hpp"

#include "dlfs/kernels/relu.hpp"

namespace dlfs {

Tensor ReLU::forward(const std::vector<Tensor>& inputs, Mode mode) {
  // Only training keeps a mask: inference has no backward.
  mask_ = Tensor();
  return kernels::relu_forward(single_input(inputs, "ReLU"),
                               mode == Mode::Train ? &mask_ : nullptr);
}

std::vector<Tensor> ReLU::backward(const Tensor& grad_output) {
  if (!mask_.defined()) throw Error("ReLU::backward called without a Train-mode forward");
  return {kernels::relu_backward(grad_output, mask_)};
}

bool ReLU::join_epilogue(kernels::ChannelEpilogue& epilogue) const {
  if (epilogue.relu) return false;
  epilogue.relu = true;
  return true;
}

}  // namespace dlfs
