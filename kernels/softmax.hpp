#pragma once
// Softmax over the rows of a [rows, cols] matrix, with each row's maximum subtracted before
// exponentiating (the book's countermeasure against overflow): logits of magnitude 1e4 give
// exact probabilities, a row of one value gives exactly 1/cols, and -inf entries next to finite
// ones get probability 0. A row that is -inf everywhere gives NaN, as in NumPy and PyTorch.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// Two passes per row, exponentials and sums in double.
template <typename T>
void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t cols);
}  // namespace cpu

namespace cuda {
// A group of lanes of one warp per row up to 1024 columns (fewer lanes for short rows), one block
// per row beyond; the row's (max, sum), then a writing pass (kernels/cuda/online_softmax.cuh).
void softmax_forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                     CudaStream stream);
}  // namespace cuda

// Softmax along the last axis of x (any rank >= 1); y has x's shape.
Tensor softmax(const Tensor& x);

}  // namespace dlfs::kernels
