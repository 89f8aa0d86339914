#pragma once
// Max pooling (the book's Pooling layer): the maximum of each window, with the argmax kept for
// backward. Padding counts as -inf; output size floor((H + 2p - k) / s) + 1, as in PyTorch.
#include "dlfs/kernels/pooling.hpp"
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class MaxPool : public Layer {
 public:
  MaxPool(int kernel, int stride, int padding = 0);
  explicit MaxPool(const kernels::PoolWindow& window);

  std::string type() const override { return "MaxPool"; }
  std::string describe() const override { return window_.str(); }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  const kernels::PoolWindow* max_pool_window() const override { return &window_; }
  void take_pooled_forward(const Tensor& argmax, const Shape& input_shape) override;

  const kernels::PoolWindow& window() const { return window_; }

 private:
  kernels::PoolWindow window_;
  Tensor argmax_;
  Shape input_shape_;
};

}  // namespace dlfs
