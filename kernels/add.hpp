#pragma once
// Elementwise sum of two tensors of one shape: the residual connection (y = a + b) and the
// graph's gradient accumulation for a tensor used twice (a += b).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// y[i] = a[i] + b[i]; y may be a or b (in place).
template <typename T>
void add(const T* a, const T* b, T* y, std::int64_t n);
// y[i] = max(a[i] + b[i], 0): add() and then the ReLU kernel, the same bits, in one pass.
template <typename T>
void add_relu(const T* a, const T* b, T* y, std::int64_t n);
}  // namespace cpu

namespace cuda {
void add(const float* a, const float* b, float* y, std::int64_t n, CudaStream stream);
}  // namespace cuda

// a + b, same shape, dtype and device.
Tensor add(const Tensor& a, const Tensor& b);
// a += b in place.
void add_(Tensor& a, const Tensor& b);

}  // namespace dlfs::kernels
