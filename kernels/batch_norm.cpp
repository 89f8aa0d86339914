#include "dlfs/kernels/batch_norm.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {

BatchNormShape batch_norm_shape(const char* op, const Tensor& x) {
  if (x.ndim() < 2)
    throw Error(std::string(op) + ": expects [N, F] or [N, C, H, W], got " + x.str());
  BatchNormShape s;
  s.batch = x.dim(0);
  s.channels = x.dim(1);
  s.spatial = 1;
  for (int d = 2; d < x.ndim(); ++d) s.spatial *= x.dim(d);
  return s;
}

// Throws unless t is a [C] (any shape with C elements) tensor of x's dtype and device.
void check_per_channel(const char* op, const char* what, const Tensor& t, const Tensor& x,
                       const BatchNormShape& s) {
  check_same_device(op, {&x, &t});
  if (t.numel() != s.channels || t.dtype() != x.dtype())
    throw Error(std::string(op) + ": " + what + " " + t.str() + " does not match the " +
                std::to_string(s.channels) + " channels of input " + x.str());
}

}  // namespace

Tensor batch_norm_train_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                Tensor& running_mean, Tensor& running_var,
                                Tensor* num_batches_tracked, double momentum, double eps,
                                BatchNormSaved* saved, bool relu) {
  const char* op = "batch_norm_train_forward";
  check_floating(op, x);
  const BatchNormShape s = batch_norm_shape(op, x);
  check_per_channel(op, "weight", gamma, x, s);
  check_per_channel(op, "bias", beta, x, s);
  check_per_channel(op, "running_mean", running_mean, x, s);
  check_per_channel(op, "running_var", running_var, x, s);
  if (s.per_channel() < 2)
    throw Error(std::string(op) + ": expected more than 1 value per channel when training, got " +
                x.str());
  std::int64_t* batches = nullptr;
  if (num_batches_tracked) {
    check_same_device(op, {&x, num_batches_tracked});
    if (num_batches_tracked->dtype() != DType::Int64 || num_batches_tracked->numel() != 1)
      throw Error(std::string(op) + ": num_batches_tracked must be one int64, got " +
                  num_batches_tracked->str());
    batches = num_batches_tracked->data<std::int64_t>();
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  saved->mean = Tensor::empty({s.channels}, x.dtype(), x.device());
  saved->invstd = Tensor::empty({s.channels}, x.dtype(), x.device());
  if (x.device().is_cuda()) {
    if (relu) throw Error(std::string(op) + ": a ReLU in the same pass runs on the CPU only");
    Tensor partials =
        Tensor::empty({cuda::batch_norm_workspace_floats(s)}, DType::Float32, x.device());
    DLFS_CUDA_CALL(op, cuda::batch_norm_train_forward(
                           x.data<float>(), gamma.data<float>(), beta.data<float>(),
                           y.data<float>(), running_mean.data<float>(), running_var.data<float>(),
                           saved->mean.data<float>(), saved->invstd.data<float>(), batches, s,
                           momentum, eps, stream_of(x), partials.data<float>()));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::batch_norm_train_forward(x.data<scalar_t>(), gamma.data<scalar_t>(), beta.data<scalar_t>(),
                                  y.data<scalar_t>(), running_mean.data<scalar_t>(),
                                  running_var.data<scalar_t>(), saved->mean.data<scalar_t>(),
                                  saved->invstd.data<scalar_t>(), batches, s, momentum, eps, relu);
  });
  return y;
}

Tensor batch_norm_inference_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& running_mean, const Tensor& running_var,
                                    double eps) {
  const char* op = "batch_norm_inference_forward";
  check_floating(op, x);
  const BatchNormShape s = batch_norm_shape(op, x);
  check_per_channel(op, "weight", gamma, x, s);
  check_per_channel(op, "bias", beta, x, s);
  check_per_channel(op, "running_mean", running_mean, x, s);
  check_per_channel(op, "running_var", running_var, x, s);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL(op, cuda::batch_norm_inference_forward(
                           x.data<float>(), gamma.data<float>(), beta.data<float>(),
                           running_mean.data<float>(), running_var.data<float>(), y.data<float>(),
                           s, eps, stream_of(x)));
    return y;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::batch_norm_inference_forward(x.data<scalar_t>(), gamma.data<scalar_t>(),
                                      beta.data<scalar_t>(), running_mean.data<scalar_t>(),
                                      running_var.data<scalar_t>(), y.data<scalar_t>(), s, eps);
  });
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                   const BatchNormSaved& saved, const Tensor* relu_output) {
  const char* op = "batch_norm_backward";
  check_floating(op, x);
  check_same_device(op, {&dy, &x});
  if (dy.shape() != x.shape() || dy.dtype() != x.dtype())
    throw Error(std::string(op) + ": gradient " + dy.str() + " does not match input " + x.str());
  if (relu_output) {
    check_same_device(op, {relu_output, &x});
    if (relu_output->shape() != x.shape() || relu_output->dtype() != x.dtype())
      throw Error(std::string(op) + ": ReLU output " + relu_output->str() +
                  " does not match input " + x.str());
    if (x.device().is_cuda())
      throw Error(std::string(op) + ": a ReLU in the same pass runs on the CPU only");
  }
  const BatchNormShape s = batch_norm_shape(op, x);
  check_per_channel(op, "weight", gamma, x, s);
  check_per_channel(op, "saved mean", saved.mean, x, s);
  check_per_channel(op, "saved invstd", saved.invstd, x, s);
  BatchNormGrads grads;
  grads.dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  grads.dgamma = Tensor::empty(gamma.shape(), x.dtype(), x.device());
  grads.dbeta = Tensor::empty(gamma.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    Tensor partials =
        Tensor::empty({cuda::batch_norm_workspace_floats(s)}, DType::Float32, x.device());
    DLFS_CUDA_CALL(
        op, cuda::batch_norm_backward(
                dy.data<float>(), x.data<float>(), gamma.data<float>(), saved.mean.data<float>(),
                saved.invstd.data<float>(), grads.dx.data<float>(), grads.dgamma.data<float>(),
                grads.dbeta.data<float>(), s, stream_of(x), partials.data<float>()));
    return grads;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::batch_norm_backward(dy.data<scalar_t>(), x.data<scalar_t>(), gamma.data<scalar_t>(),
                             saved.mean.data<scalar_t>(), saved.invstd.data<scalar_t>(),
                             grads.dx.data<scalar_t>(), grads.dgamma.data<scalar_t>(),
                             grads.dbeta.data<scalar_t>(), s,
                             relu_output ? relu_output->data<scalar_t>() : nullptr);
  });
  return grads;
}

Tensor batch_norm_backward_input(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                 const BatchNormSaved& saved, const Tensor& dgamma,
                                 const Tensor& dbeta, double count) {
  const char* op = "batch_norm_backward_input";
  check_floating(op, x);
  check_same_device(op, {&dy, &x});
  if (dy.shape() != x.shape() || dy.dtype() != x.dtype())
    throw Error(std::string(op) + ": gradient " + dy.str() + " does not match input " + x.str());
  const BatchNormShape s = batch_norm_shape(op, x);
  if (!(count >= static_cast<double>(s.per_channel())))
    throw Error(std::string(op) + ": " + std::to_string(count) +
                " values per channel, fewer than " + std::to_string(s.per_channel()) +
                " in the input");
  check_per_channel(op, "weight", gamma, x, s);
  check_per_channel(op, "saved mean", saved.mean, x, s);
  check_per_channel(op, "saved invstd", saved.invstd, x, s);
  check_per_channel(op, "dgamma", dgamma, x, s);
  check_per_channel(op, "dbeta", dbeta, x, s);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL(
        op, cuda::batch_norm_backward_input(dy.data<float>(), x.data<float>(), gamma.data<float>(),
                                            saved.mean.data<float>(), saved.invstd.data<float>(),
                                            dgamma.data<float>(), dbeta.data<float>(), count,
                                            dx.data<float>(), s, stream_of(x)));
    return dx;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), op, [&] {
    cpu::batch_norm_backward_input(dy.data<scalar_t>(), x.data<scalar_t>(), gamma.data<scalar_t>(),
                                   saved.mean.data<scalar_t>(), saved.invstd.data<scalar_t>(),
                                   dgamma.data<scalar_t>(), dbeta.data<scalar_t>(), count,
                                   dx.data<scalar_t>(), s);
  });
  return dx;
}

}  // namespace dlfs::kernels
