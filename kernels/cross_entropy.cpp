#include "dlfs/kernels/cross_entropy.hpp"

#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/dispatch.hpp"
#include "dlfs/kernels/loss_targets.hpp"

namespace dlfs::kernels {

Tensor cross_entropy(const Tensor& probabilities, const Tensor& targets) {
  const TargetKind kind = check_loss_targets("cross_entropy", probabilities, targets);
  const std::int64_t rows = probabilities.dim(0), cols = probabilities.dim(1);
  const Device& device = probabilities.device();
  Tensor loss = Tensor::empty({1}, probabilities.dtype(), device);
  if (device.is_cuda()) {
#if DLFS_HAVE_CUDA
    Tensor row_loss = Tensor::empty({rows}, DType::Float32, device);
    Tensor partials = Tensor::empty({cuda::loss_workspace_doubles(rows)}, DType::Float64, device);
    if (kind == TargetKind::Labels) {
      Tensor status = Tensor::empty({2}, DType::Int64, device);
      cuda::cross_entropy(probabilities.data<float>(), targets.data<std::int32_t>(),
                          row_loss.data<float>(), loss.data<float>(), status.data<std::int64_t>(),
                          rows, cols, stream_of(probabilities), partials.data<double>());
      check_label_status("cross_entropy", status, cols);
    } else {
      cuda::cross_entropy(probabilities.data<float>(), targets.data<float>(),
                          row_loss.data<float>(), loss.data<float>(), rows, cols,
                          stream_of(probabilities), partials.data<double>());
    }
    return loss;
#else
    no_cuda_build("cross_entropy");
#endif
  }
  if (kind == TargetKind::Labels) check_host_labels("cross_entropy", targets, cols);
  DLFS_DISPATCH_FLOATING(probabilities.dtype(), "cross_entropy", [&] {
    if (kind == TargetKind::Labels)
      cpu::cross_entropy(probabilities.data<scalar_t>(), targets.data<std::int32_t>(),
                         loss.data<scalar_t>(), rows, cols);
    else
      cpu::cross_entropy(probabilities.data<scalar_t>(), targets.data<scalar_t>(),
                         loss.data<scalar_t>(), rows, cols);
  });
  return loss;
}

}  // namespace dlfs::kernels
