#pragma once
// Hyperbolic tangent: forward y = tanh(x), backward from the stored output, dx = dy * (1 - y^2).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void tanh_forward(const T* x, T* y, std::int64_t n);
template <typename T>
void tanh_backward(const T* dy, const T* y, T* dx, std::int64_t n);
}  // namespace cpu

namespace cuda {
void tanh_forward(const float* x, float* y, std::int64_t n, CudaStream stream);
void tanh_backward(const float* dy, const float* y, float* dx, std::int64_t n, CudaStream stream);
}  // namespace cuda

Tensor tanh_forward(const Tensor& x);
// y is the output of tanh_forward.
Tensor tanh_backward(const Tensor& dy, const Tensor& y);

}  // namespace dlfs::kernels
