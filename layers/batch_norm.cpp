#include "dlfs/layers/batch_norm.hpp"

#include <cmath>
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
  relu_output_ = Tensor();
  if (mode == Mode::Inference) {
    input_ = Tensor();
    saved_ = {};
    return kernels::batch_norm_inference_forward(x, weight_.value, bias_.value, running_mean_.value,
                                                 running_var_.value, eps_);
  }
  if (sum_) {
    Tensor y = synchronised_forward(x);
    input_ = x;
    return y;
  }
  Tensor y = kernels::batch_norm_train_forward(x, weight_.value, bias_.value, running_mean_.value,
                                               running_var_.value, &num_batches_tracked_.value,
                                               momentum_, eps_, &saved_);
  input_ = x;
  return y;
}

Tensor BatchNorm::forward_with_relu(const std::vector<Tensor>& inputs) {
  const Tensor& x = single_input(inputs, "BatchNorm");
  if (sum_ || !x.device().is_cpu()) return Tensor();
  Tensor y = kernels::batch_norm_train_forward(x, weight_.value, bias_.value, running_mean_.value,
                                               running_var_.value, &num_batches_tracked_.value,
                                               momentum_, eps_, &saved_, /*relu=*/true);
  input_ = x;
  // The mask of the ReLU's backward is y > 0. y is the next layer's input, which that layer
  // keeps anyway, so this costs no memory where the ReLU's own byte mask did.
  relu_output_ = y;
  return y;
}

bool BatchNorm::join_epilogue(kernels::ChannelEpilogue& epilogue) const {
  if (!epilogue.empty()) return false;
  epilogue.gamma = weight_.value;
  epilogue.beta = bias_.value;
  epilogue.mean = running_mean_.value;
  epilogue.var = running_var_.value;
  epilogue.eps = eps_;
  return true;
}

Tensor BatchNorm::forward_fused(const std::vector<Tensor>& inputs,
                                const kernels::ChannelEpilogue& epilogue,
                                const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                                Tensor* pool_argmax) {
  const Tensor& x = single_input(inputs, "BatchNorm");
  relu_output_ = Tensor();
  if (epilogue.normalizes() || max_pool || pool_argmax || !x.device().is_cpu()) return Tensor();
  *unpooled_shape = x.shape();
  kernels::ChannelEpilogue mine;  // this layer's normalisation, then what follows it
  if (!join_epilogue(mine)) return Tensor();
  mine.relu = epilogue.relu;
  input_ = Tensor();
  saved_ = {};
  return kernels::apply_channel_epilogue(x, mine);
}

namespace {
std::vector<double> host_values(const Tensor& t) {
  return t.to(DType::Float64).to_vector<double>();
}
Tensor like(const std::vector<double>& values, const Tensor& t) {
  return Tensor::from_vector<double>(values, t.shape()).to(t.dtype()).to(t.device());
}
}  // namespace

Tensor BatchNorm::synchronised_forward(const Tensor& x) {
  // This process's mean and variance, from the kernel that computes them stably (its output and
  // its update of copies of the running statistics are not used).
  Tensor scratch_mean = running_mean_.value.clone(), scratch_var = running_var_.value.clone();
  kernels::BatchNormSaved local;
  kernels::batch_norm_train_forward(x, weight_.value, bias_.value, scratch_mean, scratch_var,
                                    nullptr, momentum_, eps_, &local);
  const std::size_t c = static_cast<std::size_t>(num_features_);
  const double count = static_cast<double>(x.numel()) / static_cast<double>(num_features_);
  const std::vector<double> mean = host_values(local.mean), invstd = host_values(local.invstd);
  // Chan et al.: the global mean from the counts and means, then the global variance from each
  // process's variance and the distance of its mean from the global one.
  std::vector<double> first(c + 1);
  first[c] = count;
  for (std::size_t k = 0; k < c; ++k) first[k] = count * mean[k];
  sum_(first);
  const double total = first[c];
  std::vector<double> global_mean(c), second(c);
  for (std::size_t k = 0; k < c; ++k) {
    global_mean[k] = first[k] / total;
    const double variance = 1.0 / (invstd[k] * invstd[k]) - eps_;
    const double offset = mean[k] - global_mean[k];
    second[k] = count * (variance + offset * offset);
  }
  sum_(second);
  std::vector<double> global_var(c), global_invstd(c),
      running_mean = host_values(running_mean_.value),
      running_var = host_values(running_var_.value);
  for (std::size_t k = 0; k < c; ++k) {
    global_var[k] = second[k] / total;
    global_invstd[k] = 1.0 / std::sqrt(global_var[k] + eps_);
    running_mean[k] = (1 - momentum_) * running_mean[k] + momentum_ * global_mean[k];
    // The running variance is the unbiased one, as PyTorch keeps it.
    running_var[k] =
        (1 - momentum_) * running_var[k] + momentum_ * global_var[k] * total / (total - 1);
  }
  saved_.mean = like(global_mean, running_mean_.value);
  saved_.invstd = like(global_invstd, running_mean_.value);
  running_mean_.value.copy_from(like(running_mean, running_mean_.value));
  running_var_.value.copy_from(like(running_var, running_var_.value));
  Tensor tracked = num_batches_tracked_.value.to(Device::cpu());
  tracked.data<std::int64_t>()[0] += 1;
  num_batches_tracked_.value.copy_from(tracked);
  global_count_ = total;
  return kernels::batch_norm_inference_forward(x, weight_.value, bias_.value, saved_.mean,
                                               like(global_var, running_mean_.value), eps_);
}

Tensor BatchNorm::synchronised_backward(const Tensor& grad_output) {
  kernels::BatchNormGrads local =
      kernels::batch_norm_backward(grad_output, input_, weight_.value, saved_);
  const std::size_t c = static_cast<std::size_t>(num_features_);
  std::vector<double> sums = host_values(local.dgamma);
  const std::vector<double> dbeta = host_values(local.dbeta);
  sums.insert(sums.end(), dbeta.begin(), dbeta.end());
  sum_(sums);
  const Tensor all_dgamma = like({sums.begin(), sums.begin() + c}, local.dgamma);
  const Tensor all_dbeta = like({sums.begin() + c, sums.end()}, local.dbeta);
  weight_.grad = local.dgamma;
  bias_.grad = local.dbeta;
  return kernels::batch_norm_backward_input(grad_output, input_, weight_.value, saved_, all_dgamma,
                                            all_dbeta, global_count_);
}

std::vector<Tensor> BatchNorm::backward(const Tensor& grad_output) {
  if (!input_.defined()) throw Error("BatchNorm::backward called without a Train-mode forward");
  if (sum_) return {synchronised_backward(grad_output)};
  kernels::BatchNormGrads grads = kernels::batch_norm_backward(
      grad_output, input_, weight_.value, saved_, relu_output_.defined() ? &relu_output_ : nullptr);
  weight_.grad = grads.dgamma;
  bias_.grad = grads.dbeta;
  return {grads.dx};
}

}  // namespace dlfs
