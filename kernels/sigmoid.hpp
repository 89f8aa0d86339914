#pragma once
// Sigmoid, as the book's Sigmoid class: forward y = 1 / (1 + exp(-x)), backward from the stored
// output, dx = dy * y * (1 - y). Both twins use the form that never overflows: for x >= 0,
// 1 / (1 + exp(-x)); for x < 0, exp(x) / (1 + exp(x)), so exp only ever sees arguments <= 0.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void sigmoid_forward(const T* x, T* y, std::int64_t n);
template <typename T>
void sigmoid_backward(const T* dy, const T* y, T* dx, std::int64_t n);
}  // namespace cpu

namespace cuda {
void sigmoid_forward(const float* x, float* y, std::int64_t n, CudaStream stream);
void sigmoid_backward(const float* dy, const float* y, float* dx, std::int64_t n,
                      CudaStream stream);
}  // namespace cuda

Tensor sigmoid_forward(const Tensor& x);
// y is the output of sigmoid_forward.
Tensor sigmoid_backward(const Tensor& dy, const Tensor& y);

}  // namespace dlfs::kernels
