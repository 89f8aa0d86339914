#pragma once
// Concat: the inputs joined along the channel axis, [N, C_0 + C_1 + ..., H, W] (GoogLeNet's
// Inception block concatenates its four branches). The gradient of each input is its channels'
// part of the output gradient.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Concat : public Layer {
 public:
  std::string type() const override { return "Concat"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

 private:
  std::vector<std::int64_t> channels_;  // of each input in the last Train-mode forward
  Shape output_shape_;
};

}  // namespace dlfs
