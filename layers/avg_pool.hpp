#pragma once
// Average pooling: the mean of each window. Padding counts as zeros and every window divides by
// kernel_h * kernel_w (PyTorch's default count_include_pad=True); floor-mode output size.
#include "dlfs/kernels/pooling.hpp"
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class AvgPool : public Layer {
 public:
  AvgPool(int kernel, int stride, int padding = 0);
  explicit AvgPool(const kernels::PoolWindow& window);

  std::string type() const override { return "AvgPool"; }
  std::string describe() const override { return window_.str(); }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

  const kernels::PoolWindow& window() const { return window_; }

 private:
  kernels::PoolWindow window_;
  Shape input_shape_;
  bool ready_for_backward_ = false;
};

}  // namespace dlfs
