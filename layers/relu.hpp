#pragma once
// ReLU: y = max(x, 0), with the book's mask kept for backward.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class ReLU : public Layer {
 public:
  std::string type() const override { return "ReLU"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  bool commutes_with_max() const override { return true; }
  bool join_epilogue(kernels::ChannelEpilogue& epilogue) const override;

 private:
  Tensor mask_;
};

}  // namespace dlfs
