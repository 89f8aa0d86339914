#pragma once
// Average pooling over NCHW with any window, stride and padding. Padding counts as zeros in the
// average (PyTorch's default count_include_pad=True): every window's sum is divided by
// kernel_h * kernel_w, also at the borders. Backward gives each pixel of a window dy / (kh * kw).
#include <cstdint>

#include "dlfs/kernels/pooling.hpp"
#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void avg_pool_forward(const T* x, T* y, const Pool2dGeometry& g);
template <typename T>
void avg_pool_backward(const T* dy, T* dx, const Pool2dGeometry& g);
}  // namespace cpu

namespace cuda {
void avg_pool_forward(const float* x, float* y, const Pool2dGeometry& g, CudaStream stream);
void avg_pool_backward(const float* dy, float* dx, const Pool2dGeometry& g, CudaStream stream);
}  // namespace cuda

// y ([N, C, OH, OW]) = the mean of each window of x ([N, C, H, W]), padding counted as zeros.
Tensor avg_pool_forward(const Tensor& x, const PoolWindow& window);
// dx (input_shape) from dy ([N, C, OH, OW]).
Tensor avg_pool_backward(const Tensor& dy, const Shape& input_shape, const PoolWindow& window);

}  // namespace dlfs::kernels
