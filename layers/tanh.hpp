#pragma once
// Tanh: y = tanh(x); keeps y for backward (dx = dy * (1 - y^2)).
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Tanh : public Layer {
 public:
  std::string type() const override { return "Tanh"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

 private:
  Tensor output_;
};

}  // namespace dlfs
