#pragma once
// Global average pooling: [N, C, H, W] -> [N, C, 1, 1], the mean of each channel plane.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class GlobalAvgPool : public Layer {
 public:
  std::string type() const override { return "GlobalAvgPool"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

 private:
  Shape input_shape_;
  bool ready_for_backward_ = false;
};

}  // namespace dlfs
