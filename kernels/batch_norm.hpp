#pragma once
// Batch normalization (Ioffe & Szegedy; the book's BatchNormalization layer) over the channel axis
// of an [N, C, S] view: per feature for [N, F] inputs (S = 1), per channel for [N, C, H, W]
// (S = H * W). Statistics are taken over the N * S values of each channel.
//
// Training: mean and biased variance of the batch normalize x; the running statistics follow
// PyTorch: running = (1 - momentum) * running + momentum * batch_stat, where the variance fed in
// is the unbiased one (times M / (M - 1), M = N * S). Inference uses the running statistics.
//   y = (x - mean) / sqrt(var + eps) * gamma + beta
// Backward (training) with x_hat = (x - mean) * invstd:
//   dbeta = sum(dy), dgamma = sum(dy * x_hat),
//   dx = gamma * invstd * (dy - dbeta / M - x_hat * dgamma / M).
#include <cstdint>

#include "dlfs/kernels/channel_split.hpp"
#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

// x seen as [batch, channels, spatial].
struct BatchNormShape {
  std::int64_t batch = 0, channels = 0, spatial = 1;
  constexpr std::int64_t per_channel() const { return batch * spatial; }
  constexpr std::int64_t numel() const { return batch * channels * spatial; }
};

namespace cpu {
// Writes y, the batch mean and 1 / sqrt(var + eps) per channel (save_*), updates the running
// statistics in place and adds one to *batches_tracked when it is not null. With `relu`, y is
// clamped at 0 as it is written (max(y, 0), the ReLU kernel's bits).
template <typename T>
void batch_norm_train_forward(const T* x, const T* gamma, const T* beta, T* y, T* running_mean,
                              T* running_var, T* save_mean, T* save_invstd,
                              std::int64_t* batches_tracked, const BatchNormShape& s,
                              double momentum, double eps, bool relu = false);
// With `relu`, each value is clamped at 0 as it is written (max(y, 0), the ReLU kernel's bits);
// with `bias` (per channel, the layer before's), x + bias is normalised, the bits of adding the
// bias in a pass of its own first. y may be x.
template <typename T>
void batch_norm_inference_forward(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                  const T* running_var, T* y, const BatchNormShape& s, double eps,
                                  bool relu = false, const T* bias = nullptr);
// With relu_output (the y of a forward with `relu`), dy is the gradient of the clamped output:
// it is taken as zero where relu_output is not positive, the bits of the ReLU's own backward
// before this one.
template <typename T>
void batch_norm_backward(const T* dy, const T* x, const T* gamma, const T* save_mean,
                         const T* save_invstd, T* dx, T* dgamma, T* dbeta, const BatchNormShape& s,
                         const T* relu_output = nullptr);
// dx alone, from per-channel sums (dgamma = sum(dy * x_hat), dbeta = sum(dy)) over `count`
// values that may span several processes (synchronised BatchNorm).
template <typename T>
void batch_norm_backward_input(const T* dy, const T* x, const T* gamma, const T* save_mean,
                               const T* save_invstd, const T* dgamma, const T* dbeta, double count,
                               T* dx, const BatchNormShape& s);
}  // namespace cpu

namespace cuda {
// partials: batch_norm_workspace_floats(s) floats of workspace, so that a channel's statistics
// (or backward sums) are split over several blocks (kernels/channel_split.hpp) and combined in
// a fixed order; null takes each channel in one block.
void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, float* y,
                              float* running_mean, float* running_var, float* save_mean,
                              float* save_invstd, std::int64_t* batches_tracked,
                              const BatchNormShape& s, double momentum, double eps,
                              CudaStream stream, float* partials);
void batch_norm_inference_forward(const float* x, const float* gamma, const float* beta,
                                  const float* running_mean, const float* running_var, float* y,
                                  const BatchNormShape& s, double eps, CudaStream stream);
void batch_norm_backward(const float* dy, const float* x, const float* gamma,
                         const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                         float* dbeta, const BatchNormShape& s, CudaStream stream, float* partials);
void batch_norm_backward_input(const float* dy, const float* x, const float* gamma,
                               const float* save_mean, const float* save_invstd,
                               const float* dgamma, const float* dbeta, double count, float* dx,
                               const BatchNormShape& s, CudaStream stream);

// Three floats per block of the split: a run's mean and its sums of deviations and of their
// squares forward, its two sums backward.
constexpr std::int64_t batch_norm_workspace_floats(const BatchNormShape& s) {
  return 3 * s.channels * channel_split(s.channels, s.per_channel()).splits;
}
}  // namespace cuda

// What a training-mode forward keeps for backward besides x: per-channel batch mean and
// 1 / sqrt(biased var + eps).
struct BatchNormSaved {
  Tensor mean, invstd;
};

struct BatchNormGrads {
  Tensor dx, dgamma, dbeta;
};

// x: [N, C, ...] (at least 2-D); gamma, beta, running_mean, running_var: [C] of x's dtype and
// device. num_batches_tracked (int64, one element) may be null. Throws when a channel has a
// single value (M = 1: no variance to estimate), as PyTorch does.
// With `relu` (CPU only), the output is clamped at 0: a ReLU after the BatchNorm, in the same
// pass.
Tensor batch_norm_train_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                Tensor& running_mean, Tensor& running_var,
                                Tensor* num_batches_tracked, double momentum, double eps,
                                BatchNormSaved* saved, bool relu = false);
Tensor batch_norm_inference_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& running_mean, const Tensor& running_var,
                                    double eps);
// Gradients of a training-mode forward (the batch statistics depend on x). After a forward with
// `relu`, relu_output is its output and dy the gradient of that: the ReLU's backward is applied
// first, in the same passes (CPU only).
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                   const BatchNormSaved& saved,
                                   const Tensor* relu_output = nullptr);
// dx of a forward whose statistics were taken over `count` values per channel, of which x holds
// some (synchronised BatchNorm: the batch is split over processes); `dgamma` and `dbeta` are
// the sums of dy * x_hat and of dy over all of them. With this process's own sums and count it
// is batch_norm_backward's dx.
Tensor batch_norm_backward_input(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                 const BatchNormSaved& saved, const Tensor& dgamma,
                                 const Tensor& dbeta, double count);

}  // namespace dlfs::kernels
