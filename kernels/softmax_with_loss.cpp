#include "dlfs/kernels/softmax_with_loss.hpp"

#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/dispatch.hpp"
#include "dlfs/kernels/loss_targets.hpp"

namespace dlfs::kernels {

Tensor softmax_with_loss_forward(const Tensor& logits, const Tensor& targets,
                                 Tensor* probabilities) {
  const char* op = "softmax_with_loss_forward";
  const TargetKind kind = check_loss_targets(op, logits, targets);
  const std::int64_t rows = logits.dim(0), cols = logits.dim(1);
  const Device& device = logits.device();
  Tensor loss = Tensor::empty({1}, logits.dtype(), device);
  *probabilities = Tensor::empty(logits.shape(), logits.dtype(), device);
  if (device.is_cuda()) {
#if DLFS_HAVE_CUDA
    Tensor row_loss = Tensor::empty({rows}, DType::Float32, device);
    Tensor partials = Tensor::empty({cuda::loss_workspace_doubles(rows)}, DType::Float64, device);
    if (kind == TargetKind::Labels) {
      Tensor status = Tensor::empty({2}, DType::Int64, device);
      cuda::softmax_with_loss_forward(logits.data<float>(), targets.data<std::int32_t>(),
                                      probabilities->data<float>(), row_loss.data<float>(),
                                      loss.data<float>(), status.data<std::int64_t>(), rows, cols,
                                      stream_of(logits), partials.data<double>());
      check_label_status(op, status, cols);
    } else {
      cuda::softmax_with_loss_forward(logits.data<float>(), targets.data<float>(),
                                      probabilities->data<float>(), row_loss.data<float>(),
                                      loss.data<float>(), rows, cols, stream_of(logits),
                                      partials.data<double>());
    }
    return loss;
#else
    no_cuda_build(op);
#endif
  }
  if (kind == TargetKind::Labels) check_host_labels(op, targets, cols);
  DLFS_DISPATCH_FLOATING(logits.dtype(), op, [&] {
    if (kind == TargetKind::Labels)
      cpu::softmax_with_loss_forward(logits.data<scalar_t>(), targets.data<std::int32_t>(),
                                     probabilities->data<scalar_t>(), loss.data<scalar_t>(), rows,
                                     cols);
    else
      cpu::softmax_with_loss_forward(logits.data<scalar_t>(), targets.data<scalar_t>(),
                                     probabilities->data<scalar_t>(), loss.data<scalar_t>(), rows,
                                     cols);
  });
  return loss;
}

Tensor softmax_with_loss_backward(const Tensor& probabilities, const Tensor& targets,
                                  const Tensor& dloss) {
  const char* op = "softmax_with_loss_backward";
  const TargetKind kind = check_loss_targets(op, probabilities, targets);
  check_same_device(op, {&probabilities, &dloss});
  if (dloss.numel() != 1 || dloss.dtype() != probabilities.dtype())
    throw Error(std::string(op) + ": the loss gradient must be one " +
                dtype_name(probabilities.dtype()) + " value, got " + dloss.str());
  const std::int64_t rows = probabilities.dim(0), cols = probabilities.dim(1);
  Tensor dlogits =
      Tensor::empty(probabilities.shape(), probabilities.dtype(), probabilities.device());
  if (probabilities.device().is_cuda()) {
#if DLFS_HAVE_CUDA
    if (kind == TargetKind::Labels)
      cuda::softmax_with_loss_backward(probabilities.data<float>(), targets.data<std::int32_t>(),
                                       dloss.data<float>(), dlogits.data<float>(), rows, cols,
                                       stream_of(probabilities));
    else
      cuda::softmax_with_loss_backward(probabilities.data<float>(), targets.data<float>(),
                                       dloss.data<float>(), dlogits.data<float>(), rows, cols,
                                       stream_of(probabilities));
    return dlogits;
#else
    no_cuda_build(op);
#endif
  }
  DLFS_DISPATCH_FLOATING(probabilities.dtype(), op, [&] {
    if (kind == TargetKind::Labels)
      cpu::softmax_with_loss_backward(probabilities.data<scalar_t>(), targets.data<std::int32_t>(),
                                      dloss.data<scalar_t>(), dlogits.data<scalar_t>(), rows, cols);
    else
      cpu::softmax_with_loss_backward(probabilities.data<scalar_t>(), targets.data<scalar_t>(),
                                      dloss.data<scalar_t>(), dlogits.data<scalar_t>(), rows, cols);
  });
  return dlogits;
}

}  // namespace dlfs::kernels
