#pragma once
// Local response normalization across channels (AlexNet), as PyTorch's LocalResponseNorm:
// y_c = x_c / (k + alpha / size * sum of x_j^2 over `size` neighbouring channels)^beta.
// AlexNet's paper constants are LRN(5, 5e-4, 0.75, 2) in this convention (see kernels/lrn.hpp).
#include "dlfs/kernels/lrn.hpp"
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class LRN : public Layer {
 public:
  explicit LRN(int size, double alpha = 1e-4, double beta = 0.75, double k = 1.0);

  std::string type() const override { return "LRN"; }
  std::string describe() const override;
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;

  const kernels::LrnParams& params() const { return params_; }

 private:
  kernels::LrnParams params_;
  // Kept by a Train-mode forward.
  Tensor input_, output_, scale_;
};

}  // namespace dlfs
