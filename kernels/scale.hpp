#pragma once
// Multiplication by a scalar (y = alpha * x) and its accumulating form, BLAS's axpy
// (y += alpha * x). alpha is rounded to the tensor's element type once, on the host, so the
// CPU and CUDA twins multiply by the same number and round each result identically.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// y[i] = alpha * x[i]; y may be x (in place).
template <typename T>
void scale(const T* x, T alpha, T* y, std::int64_t n);
// y[i] += alpha * x[i], rounded after the product and after the sum (no fused multiply-add).
template <typename T>
void axpy(T alpha, const T* x, T* y, std::int64_t n);
}  // namespace cpu

namespace cuda {
void scale(const float* x, float alpha, float* y, std::int64_t n, CudaStream stream);
void axpy(float alpha, const float* x, float* y, std::int64_t n, CudaStream stream);
}  // namespace cuda

// alpha * a as a new tensor.
Tensor scale(const Tensor& a, double alpha);
// a *= alpha in place.
void scale_(Tensor& a, double alpha);
// y += alpha * x in place; same shape, dtype and device.
void axpy_(Tensor& y, double alpha, const Tensor& x);

}  // namespace dlfs::kernels
