#pragma once
// Local response normalization across channels (AlexNet, section 3.3), with PyTorch's
// LocalResponseNorm conventions: for channel c of an [N, C, ...] input,
//   scale_c = k + alpha / size * sum_{j = c - size/2}^{c + (size-1)/2} x_j^2   (j outside [0, C)
//   counts as zero),   y_c = x_c * scale_c^-beta.
// The paper's constants (n = 5, alpha = 1e-4 without division by n, beta = 0.75, k = 2) are
// size 5, alpha 5e-4, beta 0.75, k 2 here.
// Backward, with the saved scale and y:
//   dx_i = dy_i * scale_i^-beta - 2 alpha beta / size * x_i * sum_{c: i in window(c)} dy_c y_c /
//   scale_c.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

struct LrnParams {
  int size = 5;
  double alpha = 1e-4, beta = 0.75, k = 1.0;
};

// x seen as [batch, channels, spatial].
struct LrnShape {
  std::int64_t batch = 0, channels = 0, spatial = 1;
  constexpr std::int64_t numel() const { return batch * channels * spatial; }
};

namespace cpu {
template <typename T>
void lrn_forward(const T* x, T* y, T* scale, const LrnShape& s, const LrnParams& p);
template <typename T>
void lrn_backward(const T* dy, const T* x, const T* y, const T* scale, T* dx, const LrnShape& s,
                  const LrnParams& p);
}  // namespace cpu

namespace cuda {
void lrn_forward(const float* x, float* y, float* scale, const LrnShape& s, const LrnParams& p,
                 CudaStream stream);
void lrn_backward(const float* dy, const float* x, const float* y, const float* scale, float* dx,
                  const LrnShape& s, const LrnParams& p, CudaStream stream);
}  // namespace cuda

// y = x * scale^-beta for x of shape [N, C, ...] (at least 3-D); *scale (x's shape) is kept for
// backward.
Tensor lrn_forward(const Tensor& x, const LrnParams& params, Tensor* scale);
Tensor lrn_backward(const Tensor& dy, const Tensor& x, const Tensor& y, const Tensor& scale,
                    const LrnParams& params);

}  // namespace dlfs::kernels
