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
//
// Synchronised statistics (SyncBatchNorm, for data-parallel training): given a function that
// sums numbers over a run's processes, a Train-mode forward normalizes with the mean and
// variance of the whole global batch (each process's mean and variance combined by Chan's
// formula, which does not cancel), the running statistics follow those, and backward uses the
// whole batch's sums of dy and dy * x_hat. The parameters' gradients stay this process's: the
// data-parallel gradient sum adds the others.
#include <cstdint>
#include <functional>
#include <vector>

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
  // In inference, BatchNorm is the start of an epilogue; it applies a ReLU after it itself.
  bool join_epilogue(kernels::ChannelEpilogue& epilogue) const override;
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override;
  // On the CPU, without synchronised statistics.
  Tensor forward_with_relu(const std::vector<Tensor>& inputs) override;
  std::vector<Parameter*> parameters() override { return {&weight_, &bias_}; }
  std::vector<Buffer*> buffers() override {
    return {&running_mean_, &running_var_, &num_batches_tracked_};
  }

  // Adds `values` element by element over the processes of a run, the same result in each.
  using SumOverProcesses = std::function<void(std::vector<double>& values)>;
  // Synchronises the batch statistics through `sum` (an empty function: this process's own).
  // Every process must then run each Train-mode forward and backward of the layer together.
  void synchronise_statistics(SumOverProcesses sum) { sum_ = std::move(sum); }

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
  Tensor synchronised_forward(const Tensor& x);
  Tensor synchronised_backward(const Tensor& grad_output);

  // Kept by a Train-mode forward for backward.
  Tensor input_;
  kernels::BatchNormSaved saved_;
  Tensor relu_output_;  // the output, after forward_with_relu
  SumOverProcesses sum_;
  double global_count_ = 0;  // values per channel over all processes, in the last forward
};

}  // namespace dlfs
