#pragma once
// Max pooling over NCHW with any window, stride and padding (padding acts as -inf). Forward keeps
// the argmax of each window as an int32 offset into its input plane (h * W + w); backward sends
// each output gradient to that pixel, adding where windows overlap.
//
// Ties go to the first maximum in row-major window order; a NaN in a window wins (as PyTorch).
#include <cstdint>

#include "dlfs/kernels/pooling.hpp"
#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// argmax may be null (inference): the maxima alone, the same values.
template <typename T>
void max_pool_forward(const T* x, T* y, std::int32_t* argmax, const Pool2dGeometry& g);
template <typename T>
void max_pool_backward(const T* dy, const std::int32_t* argmax, T* dx, const Pool2dGeometry& g);
}  // namespace cpu

namespace cuda {
void max_pool_forward(const float* x, float* y, std::int32_t* argmax, const Pool2dGeometry& g,
                      CudaStream stream);
void max_pool_backward(const float* dy, const std::int32_t* argmax, float* dx,
                       const Pool2dGeometry& g, CudaStream stream);
}  // namespace cuda

// y ([N, C, OH, OW]) = the maximum of each window of x ([N, C, H, W]); *argmax (int32, y's shape)
// holds where it was. A null argmax (inference, nothing to send a gradient back) spares the CPU
// writing it.
Tensor max_pool_forward(const Tensor& x, const PoolWindow& window, Tensor* argmax);
// dx (input_shape) from dy and the forward's argmax; pixels that were nobody's maximum get 0.
Tensor max_pool_backward(const Tensor& dy, const Tensor& argmax, const Shape& input_shape,
                         const PoolWindow& window);

}  // namespace dlfs::kernels
