#pragma once
// Affine (the book's Affine, PyTorch's Linear): y = x W^T + b, with x of shape [N, ...]
// flattened to [N, in_features]. Parameters as in a PyTorch state_dict: "weight"
// [out_features, in_features] and "bias" [out_features], created zero-filled (models initialise
// them). Backward: dx = dy W (in the input's shape), dW = dy^T x, db = sum of dy over the batch.
#include <cstdint>

#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Affine : public Layer {
 public:
  Affine(std::int64_t in_features, std::int64_t out_features, const Device& device = Device::cpu());

  std::string type() const override { return "Affine"; }
  std::string describe() const override;
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }

  std::int64_t in_features() const { return in_features_; }
  std::int64_t out_features() const { return out_features_; }
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }

 private:
  std::int64_t in_features_, out_features_;
  Parameter weight_, bias_;
  Tensor input_;  // the last Train-mode input, viewed as [N, in_features]
  Shape input_shape_;
};

}  // namespace dlfs
