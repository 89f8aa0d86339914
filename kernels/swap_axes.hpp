#pragma once
// Swaps the two leading axes of a contiguous tensor: [A, B, S...] -> [B, A, S...], with the
// trailing axes S moved as blocks. Convolution uses it between NCHW tensors and the
// [C, N, H*W] matrices that whole-batch GEMMs produce and consume (see im2col.hpp).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// y[b][a][s] = x[a][b][s] for a < outer, b < inner, s < block.
template <typename T>
void swap_leading_axes(const T* x, T* y, std::int64_t outer, std::int64_t inner,
                       std::int64_t block);
}  // namespace cpu

namespace cuda {
void swap_leading_axes(const float* x, float* y, std::int64_t outer, std::int64_t inner,
                       std::int64_t block, CudaStream stream);
}  // namespace cuda

// [A, B, ...] -> [B, A, ...] (a new tensor); x needs at least two axes.
Tensor swap_leading_axes(const Tensor& x);

}  // namespace dlfs::kernels
