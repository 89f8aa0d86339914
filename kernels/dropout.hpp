#pragma once
// Inverted dropout (Srivastava et al. 2014, as PyTorch does it). At train time element i is
// dropped when u_i = rng::uniform_float(seed, offset + i) falls below p, so it is kept with
// probability 1 - p, and kept elements are multiplied by 1 / (1 - p):
//   y = x * mask / (1 - p),   dx = dy * mask / (1 - p).
// At inference the layer is the identity.
//
// The book's Dropout keeps activations unscaled at train time and multiplies by (1 - p) at test
// time instead. Both make the expected train-time output equal the test-time output:
// E[mask / (1 - p)] = 1 here, E[mask] = 1 - p in the book. Scaling at train time leaves
// inference untouched (no dropout-specific code in a deployed model) and keeps the learned
// weights the same whatever p was. See docs/dropout.md.
//
// The mask is a pure function of (seed, offset + i), so the CPU and CUDA twins draw bit-identical
// masks, and a caller reproduces a mask by reusing (seed, offset).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// mask[i] = rng::uniform_float(seed, offset + i) >= p; y[i] = mask[i] ? x[i] * scale : 0.
template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n, float p, T scale,
                     std::uint64_t seed, std::uint64_t offset);
// dx[i] = mask[i] ? dy[i] * scale : 0.
template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n, T scale);
}  // namespace cpu

namespace cuda {
void dropout_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, float p,
                     float scale, std::uint64_t seed, std::uint64_t offset, CudaStream stream);
void dropout_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n,
                      float scale, CudaStream stream);
}  // namespace cuda

// The factor kept elements are multiplied by: 1 / (1 - p), or 0 when p = 1 (nothing is kept).
// Throws unless 0 <= p <= 1.
double dropout_scale(double p);

// Train-time dropout of x with drop probability p; *mask (uint8, x's shape) gets 1 where an
// element was kept. Counters offset .. offset + numel - 1 of stream `seed` are used.
Tensor dropout_forward(const Tensor& x, double p, std::uint64_t seed, std::uint64_t offset,
                       Tensor* mask);
Tensor dropout_backward(const Tensor& dy, const Tensor& mask, double p);

}  // namespace dlfs::kernels
