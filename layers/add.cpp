#include "dlfs/layers/add.hpp"

#include "dlfs/kernels/add.hpp"
#include "dlfs/kernels/dispatch.hpp"
#include "dlfs/kernels/relu.hpp"

namespace dlfs {

Tensor Add::forward(const std::vector<Tensor>& inputs, Mode mode) {
  relu_output_ = Tensor();
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

Tensor Add::add_relu_cpu(const std::vector<Tensor>& inputs) {
  if (inputs.size() != 2) return Tensor();
  const Tensor &a = inputs[0], &b = inputs[1];
  // Anything unusual goes through forward(), which says what is wrong.
  if (!a.defined() || !b.defined() || !a.device().is_cpu() || !b.device().is_cpu() ||
      a.shape() != b.shape() || a.dtype() != b.dtype() ||
      (a.dtype() != DType::Float32 && a.dtype() != DType::Float64))
    return Tensor();
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  DLFS_DISPATCH_FLOATING(a.dtype(), "Add", [&] {
    kernels::cpu::add_relu(a.data<scalar_t>(), b.data<scalar_t>(), y.data<scalar_t>(), y.numel());
  });
  output_shape_ = y.shape();
  return y;
}

Tensor Add::forward_fused(const std::vector<Tensor>& inputs,
                          const kernels::ChannelEpilogue& epilogue,
                          const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                          Tensor* pool_argmax) {
  relu_output_ = Tensor();
  if (epilogue.normalizes() || !epilogue.relu || max_pool || pool_argmax) return Tensor();
  Tensor y = add_relu_cpu(inputs);
  if (!y.defined()) return y;
  input_count_ = 0;
  *unpooled_shape = y.shape();
  return y;
}

Tensor Add::forward_with_relu(const std::vector<Tensor>& inputs) {
  relu_output_ = add_relu_cpu(inputs);
  // The mask of the ReLU's backward is y > 0; y is the next layer's input, kept there anyway.
  if (relu_output_.defined()) input_count_ = 2;
  return relu_output_;
}

std::vector<Tensor> Add::backward(const Tensor& grad_output) {
  if (input_count_ == 0) throw Error("Add::backward called without a Train-mode forward");
  if (grad_output.shape() != output_shape_)
    throw Error("Add::backward: gradient " + grad_output.str() + " does not match the output " +
                output_shape_.str());
  if (relu_output_.defined())
    return std::vector<Tensor>(input_count_,
                               kernels::relu_backward_from_output(grad_output, relu_output_));
  return std::vector<Tensor>(input_count_, grad_output);
}

}  // namespace dlfs
