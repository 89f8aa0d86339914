#pragma once
// Fused optimizer updates: each reads a parameter's value, gradient and state once and writes
// value and state once (one CUDA kernel, one CPU loop). L2 weight decay is folded in as
// g' = g + weight_decay * w with the value before the update; the stored gradient is not changed.
//
// The update rules are the book's (common/optimizer.py), with PyTorch's forms where they differ
// (see docs/optimizers.md):
//   SGD       w -= lr * g'
//   Momentum  book:    v = m * v - lr * g';  w += v
//             PyTorch: v = m * v + g';       w -= lr * v
//   Nesterov  book:    v = m * v - lr * g';  w += m * m * v - (1 + m) * lr * g'
//             PyTorch: v = m * v + g';       w -= lr * (g' + m * v)
//   AdaGrad   h += g'^2;                       w -= lr * g' / (sqrt(h) + eps)
//   RMSprop   h = d * h + (1 - d) * g'^2;      w -= lr * g' / (sqrt(h) + eps)
//   Adam      m += (1 - b1) * (g' - m);  v += (1 - b2) * (g'^2 - v);
//             w -= step_size * m / (sqrt(v) / sqrt_bias_correction2 + eps)
//             (book: step_size = lr * sqrt(1 - b2^t) / (1 - b1^t), sqrt_bias_correction2 = 1;
//              PyTorch: step_size = lr / (1 - b1^t), sqrt_bias_correction2 = sqrt(1 - b2^t)).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

struct SgdStep {
  double lr = 0.01;
  double weight_decay = 0.0;
};

struct MomentumStep {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

struct AdaGradStep {
  double lr = 0.01;
  double eps = 1e-7;
  double weight_decay = 0.0;
};

struct RmspropStep {
  double lr = 0.01;
  double decay = 0.99;
  double eps = 1e-7;
  double weight_decay = 0.0;
};

struct AdamStep {
  double step_size = 0.001;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-7;
  double sqrt_bias_correction2 = 1.0;
  double weight_decay = 0.0;
};

namespace cpu {
template <typename T>
void sgd_update(T* w, const T* g, std::int64_t n, const SgdStep& s);
template <typename T>
void momentum_update(T* w, const T* g, T* v, std::int64_t n, const MomentumStep& s);
template <typename T>
void nesterov_update(T* w, const T* g, T* v, std::int64_t n, const MomentumStep& s);
template <typename T>
void adagrad_update(T* w, const T* g, T* h, std::int64_t n, const AdaGradStep& s);
template <typename T>
void rmsprop_update(T* w, const T* g, T* h, std::int64_t n, const RmspropStep& s);
template <typename T>
void adam_update(T* w, const T* g, T* m, T* v, std::int64_t n, const AdamStep& s);
}  // namespace cpu

namespace cuda {
void sgd_update(float* w, const float* g, std::int64_t n, const SgdStep& s, CudaStream stream);
void momentum_update(float* w, const float* g, float* v, std::int64_t n, const MomentumStep& s,
                     CudaStream stream);
void nesterov_update(float* w, const float* g, float* v, std::int64_t n, const MomentumStep& s,
                     CudaStream stream);
void adagrad_update(float* w, const float* g, float* h, std::int64_t n, const AdaGradStep& s,
                    CudaStream stream);
void rmsprop_update(float* w, const float* g, float* h, std::int64_t n, const RmspropStep& s,
                    CudaStream stream);
void adam_update(float* w, const float* g, float* m, float* v, std::int64_t n, const AdamStep& s,
                 CudaStream stream);
}  // namespace cuda

// In-place updates of `w` (and the state tensors) from `g`. Every tensor must have w's element
// count, dtype and device.
void sgd_update_(Tensor& w, const Tensor& g, const SgdStep& s);
void momentum_update_(Tensor& w, const Tensor& g, Tensor& velocity, const MomentumStep& s);
void nesterov_update_(Tensor& w, const Tensor& g, Tensor& velocity, const MomentumStep& s);
void adagrad_update_(Tensor& w, const Tensor& g, Tensor& h, const AdaGradStep& s);
void rmsprop_update_(Tensor& w, const Tensor& g, Tensor& h, const RmspropStep& s);
void adam_update_(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const AdamStep& s);

}  // namespace dlfs::kernels
