#pragma once
// Batch normalization (the book's BatchNormalization layer), one class for PyTorch's BatchNorm1d
// ([N, F] inputs, per feature) and BatchNorm2d ([N, C, H, W], per channel).
//
// State, named as PyTorch's state_dict: parameters "weight" (gamma, init 1) and "bias" (beta,
// init 0); buffers "running_mean" (init 0), "running_var" (init 1) and "num_batches_tracked"
// (int64, shape [], counts Train-mode forwards). Train mode normalizes with the batch statistics
// and updates the running ones with `momentum` (unbiased variance, as PyTorch); Inference mode
// normalizes with the running statistics. PyTorch's momentum=None (cumulative average) is not
// supported.
#include <cstdint>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1);

  std::string type() const override { return "BatchNorm"; }
  std::string describe() const override;
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  std::vector<Buffer*> buffers() override {
    return {&running_mean_, &running_var_, &num_batches_tracked_};
  }

  std::int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  Parameter& weight() { return weight_; }
  Parameter& bias() { return bias_; }
  Buffer& running_mean() { return running_mean_; }
  Buffer& running_var() { return running_var_; }
  Buffer& num_batches_tracked() { return num_batches_tracked_; }

 private:
  std::int64_t num_features_;
  double eps_, momentum_;
  Parameter weight_, bias_;
  Buffer running_mean_, running_var_, num_batches_tracked_;
  // Kept by a Train-mode forward for backward.
  Tensor input_;
  kernels::BatchNormSaved saved_;
};

}  // namespace dlfs
