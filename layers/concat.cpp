#include "dlfs/layers/concat.hpp"

#include "dlfs/kernels/concat.hpp"

namespace dlfs {

Tensor Concat::forward(const std::vector<Tensor>& inputs, Mode mode) {
  if (inputs.size() < 2)
    throw Error("Concat takes two or more inputs, got " + std::to_string(inputs.size()));
  Tensor y = kernels::concat_channels(inputs);
  channels_.clear();
  if (mode == Mode::Train)
    for (const Tensor& x : inputs) channels_.push_back(x.dim(1));
  output_shape_ = y.shape();
  return y;
}

std::vector<Tensor> Concat::backward(const Tensor& grad_output) {
  if (channels_.empty()) throw Error("Concat::backward called without a Train-mode forward");
  if (grad_output.shape() != output_shape_)
    throw Error("Concat::backward: gradient " + grad_output.str() + " does not match the output " +
                output_shape_.str());
  return kernels::split_channels(grad_output, channels_);
}

}  // namespace dlfs
