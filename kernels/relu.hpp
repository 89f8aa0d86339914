#pragma once
// ReLU with a stored mask, as the book's Relu class: forward keeps mask = (x > 0), backward
// passes the gradient where the mask is set and zero elsewhere.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void relu_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n);
template <typename T>
void relu_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n);
template <typename T>
void relu_backward_from_output(const T* dy, const T* y, T* dx, std::int64_t n);
}  // namespace cpu

namespace cuda {
void relu_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, CudaStream stream);
void relu_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n,
                   CudaStream stream);
}  // namespace cuda

// y = max(x, 0); *mask (uint8, x's shape) = x > 0, unless mask is null (inference: no backward,
// one byte per element less to write).
Tensor relu_forward(const Tensor& x, Tensor* mask);
Tensor relu_backward(const Tensor& dy, const Tensor& mask);
// The same from the ReLU's output y instead of a mask (y > 0 exactly where x > 0), for a layer
// that applied the ReLU itself and kept its output (CPU only).
Tensor relu_backward_from_output(const Tensor& dy, const Tensor& y);

}  // namespace dlfs::kernels
