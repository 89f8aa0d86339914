#pragma once
// Global average pooling: [N, C, H, W] -> [N, C, 1, 1], the mean of each channel plane
// (ResNet's head). Backward spreads dy / (H * W) over the plane.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// planes = N * C, spatial = H * W.
template <typename T>
void global_avg_pool_forward(const T* x, T* y, std::int64_t planes, std::int64_t spatial);
template <typename T>
void global_avg_pool_backward(const T* dy, T* dx, std::int64_t planes, std::int64_t spatial);
}  // namespace cpu

namespace cuda {
void global_avg_pool_forward(const float* x, float* y, std::int64_t planes, std::int64_t spatial,
                             CudaStream stream);
void global_avg_pool_backward(const float* dy, float* dx, std::int64_t planes, std::int64_t spatial,
                              CudaStream stream);
}  // namespace cuda

// y ([N, C, 1, 1]) = the mean of each [H, W] plane of x ([N, C, H, W]).
Tensor global_avg_pool_forward(const Tensor& x);
// dx (input_shape) = dy ([N, C, 1, 1]) / (H * W) broadcast over each plane.
Tensor global_avg_pool_backward(const Tensor& dy, const Shape& input_shape);

}  // namespace dlfs::kernels
