#include "dlfs/layers/add.hpp"

#include "dlfs/kernels/add.hpp"

namespace dlfs {

Tensor Add::forward(const std::vector<Tensor>& inputs, Mode mode) {
  if (inputs.size() < 2)
    throw Error("Add takes two or more inputs, got " + std::to_string(inputs.size()));
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (!inputs[k].defined()) throw Error("Add: input " + std::to_string(k) + " is undefined");
  Tensor y = kernels::add(inputs[0], inputs[1]);
  for (std::size_t k = 2; k < inputs.size(); ++k) kernels::add_(y, inputs[k]);
  input_count_ = mode == Mode::Train ? inputs.size() : 0;
  output_shape_ = y.shape();
  return y;
}

std::vector<Tensor> Add::backward(const Tensor& grad_output) {
  if (input_count_ == 0) throw Error("Add::backward called without a Train-mode forward");
  if (grad_output.shape() != output_shape_)
    throw Error("Add::backward: gradient " + grad_output.str() + " does not match the output " +
                output_shape_.str());
  return std::vector<Tensor>(input_count_, grad_output);
}

}  // namespace dlfs
