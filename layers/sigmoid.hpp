#pragma once
// Sigmoid: y = 1 / (1 + exp(-x)); keeps y for backward, as the book's Sigmoid class keeps out.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Sigmoid : public Layer {
 public:
  std::string type() const override { return "Sigmoid"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

 private:
  Tensor output_;
};

}  // namespace dlfs
