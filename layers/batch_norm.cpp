#include "dlfs/layers/batch_norm.hpp"

#include <sstream>

namespace dlfs {

BatchNorm::BatchNorm(std::int64_t num_features, double eps, double momentum)
    : num_features_(num_features), eps_(eps), momentum_(momentum) {
  if (num_features < 1)
    throw Error("BatchNorm: num_features must be positive, got " + std::to_string(num_features));
  if (!(eps > 0)) throw Error("BatchNorm: eps must be positive");
  if (!(momentum >= 0 && momentum <= 1))
    throw Error("BatchNorm: momentum must be in [0, 1], got " + std::to_string(momentum));
  weight_ = {"weight", Tensor::full({num_features}, 1.0), Tensor()};
  bias_ = {"bias", Tensor::zeros({num_features}), Tensor()};
  running_mean_ = {"running_mean", Tensor::zeros({num_features})};
  running_var_ = {"running_var", Tensor::full({num_features}, 1.0)};
  // PyTorch stores a 0-dim int64; Shape{} has one element.
  num_batches_tracked_ = {"num_batches_tracked", Tensor::zeros(Shape{}, DType::Int64)};
}

std::string BatchNorm::describe() const {
  std::ostringstream s;
  s << num_features_ << ", eps " << eps_ << ", momentum " << momentum_;
  return s.str();
}

Tensor BatchNorm::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "BatchNorm");
  if (mode == Mode::Inference) {
    input_ = Tensor();
    saved_ = {};
    return kernels::batch_norm_inference_forward(x, weight_.value, bias_.value, running_mean_.value,
                                                 running_var_.value, eps_);
  }
  Tensor y = kernels::batch_norm_train_forward(x, weight_.value, bias_.value, running_mean_.value,
                                               running_var_.value, &num_batches_tracked_.value,
                                               momentum_, eps_, &saved_);
  input_ = x;
  return y;
}

std::vector<Tensor> BatchNorm::backward(const Tensor& grad_output) {
  if (!input_.defined()) throw Error("BatchNorm::backward called without a Train-mode forward");
  kernels::BatchNormGrads grads =
      kernels::batch_norm_backward(grad_output, input_, weight_.value, saved_);
  weight_.grad = grads.dgamma;
  bias_.grad = grads.dbeta;
  return {grads.dx};
}

}  // namespace dlfs
