#pragma once
// Scale: y = factor * x, a fixed factor (GoogLeNet weighs each auxiliary classifier's loss by
// 0.3 before adding it to the main loss). Its gradient is factor * dy.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Scale : public Layer {
 public:
  explicit Scale(double factor) : factor_(factor) {}
  std::string type() const override { return "Scale"; }
  std::string describe() const override;
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  double factor() const { return factor_; }

 private:
  double factor_;
  bool trained_ = false;  // a Train-mode forward ran
};

}  // namespace dlfs
