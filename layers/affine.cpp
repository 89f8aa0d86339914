#include "dlfs/layers/affine.hpp"

#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/gemm.hpp"

namespace dlfs {

namespace {
// p.grad with p.value's shape, dtype and device, reusing the old tensor when it fits.
Tensor& gradient_buffer(Parameter& p) {
  const bool fits = p.grad.defined() && p.grad.shape() == p.value.shape() &&
                    p.grad.dtype() == p.value.dtype() && p.grad.device() == p.value.device();
  if (!fits) p.grad = Tensor::empty(p.value.shape(), p.value.dtype(), p.value.device());
  return p.grad;
}
}  // namespace

Affine::Affine(std::int64_t in_features, std::int64_t out_features, const Device& device)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features < 1 || out_features < 1)
    throw Error("Affine: feature counts must be positive, got " + std::to_string(in_features) +
                "->" + std::to_string(out_features));
  weight_ = {"weight", Tensor::zeros({out_features, in_features}, DType::Float32, device), {}};
  bias_ = {"bias", Tensor::zeros({out_features}, DType::Float32, device), {}};
}

std::string Affine::describe() const {
  return std::to_string(in_features_) + "->" + std::to_string(out_features_);
}

Tensor Affine::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "Affine");
  if (x.ndim() < 1 || x.numel() != x.dim(0) * in_features_)
    throw Error("Affine " + describe() + ": input " + x.str() + " is not [N, ...] with " +
                std::to_string(in_features_) + " features per sample");
  if (x.dtype() != weight_.value.dtype() || x.device() != weight_.value.device())
    throw Error("Affine " + describe() + ": input " + x.str() + " does not match weight " +
                weight_.value.str());
  const std::int64_t batch = x.dim(0);
  Tensor x2 = x.reshape({batch, in_features_});
  Tensor y = Tensor::empty({batch, out_features_}, x.dtype(), x.device());
  kernels::matmul(x2, false, weight_.value, true, y);
  kernels::bias_add_(y, bias_.value);
  input_ = mode == Mode::Train ? x2 : Tensor();
  input_shape_ = x.shape();
  return y;
}

std::vector<Tensor> Affine::backward(const Tensor& grad_output) {
  if (!input_.defined()) throw Error("Affine::backward called without a Train-mode forward");
  const std::int64_t batch = input_.dim(0);
  if (grad_output.numel() != batch * out_features_)
    throw Error("Affine " + describe() + ": gradient " + grad_output.str() +
                " does not match the output [" + std::to_string(batch) + ", " +
                std::to_string(out_features_) + "]");
  Tensor dy = grad_output.reshape({batch, out_features_});
  kernels::matmul(dy, true, input_, false, gradient_buffer(weight_), 1, 0);  // dy^T x
  bias_.grad = kernels::bias_grad(dy);
  if (!input_gradient_needed()) return {Tensor()};  // the first layer's input is data
  Tensor dx = Tensor::empty({batch, in_features_}, dy.dtype(), dy.device());
  kernels::matmul(dy, false, weight_.value, false, dx);  // dy W
  return {dx.reshape(input_shape_.dims())};
}

}  // namespace dlfs
