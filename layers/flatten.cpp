#include "dlfs/layers/flatten.hpp"

namespace dlfs {

Tensor Flatten::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "Flatten");
  if (x.ndim() < 1) throw Error("Flatten: expects [N, ...], got " + x.str());
  has_input_ = mode == Mode::Train;
  input_shape_ = has_input_ ? x.shape() : Shape();
  const std::int64_t batch = x.dim(0);
  const std::int64_t features = batch == 0 ? 0 : x.numel() / batch;
  return x.reshape({batch, features});
}

std::vector<Tensor> Flatten::backward(const Tensor& grad_output) {
  if (!has_input_) throw Error("Flatten::backward called without a Train-mode forward");
  if (grad_output.numel() != input_shape_.numel())
    throw Error("Flatten::backward: gradient " + grad_output.str() + " does not match input " +
                input_shape_.str());
  return {grad_output.reshape(input_shape_.dims())};
}

}  // namespace dlfs
