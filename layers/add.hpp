#pragma once
// Add: the sum of two or more inputs of one shape (ResNet's residual connection,
// y = F(x) + x). The gradient of a sum with respect to each term is the output gradient itself.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Add : public Layer {
 public:
  std::string type() const override { return "Add"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  // One gradient per input of the last Train-mode forward. They are all grad_output itself (the
  // same storage, no copy): a caller that accumulates into one of them in place (kernels::add_)
  // must clone it first, or it changes the others too.
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  // Inference, two inputs on the CPU: the sum and a ReLU after it in one pass.
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override;
  // Training, two inputs on the CPU: the same pass; backward zeroes the gradient where the
  // output is not positive, once for both inputs.
  Tensor forward_with_relu(const std::vector<Tensor>& inputs) override;

 private:
  // The sum and a ReLU after it in one pass, when the inputs allow (else undefined).
  Tensor add_relu_cpu(const std::vector<Tensor>& inputs);

  std::size_t input_count_ = 0;  // 0: no Train-mode forward to differentiate
  Shape output_shape_;
  Tensor relu_output_;  // the output, after forward_with_relu
};

}  // namespace dlfs
