#pragma once
// Concatenation along the channel axis (GoogLeNet's Inception block joins its four branches so)
// and its inverse, the split of a gradient back into the inputs' parts. Both are block copies:
// seen as [outer, inner] with outer = N and inner = C_k * H * W, input k's rows land at column
// offset (C_0 + ... + C_{k-1}) * H * W of the output's rows, which are C * H * W long.
#include <cstdint>
#include <vector>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// dst[r * dst_row + offset + j] = src[r * src_row + j] for r < rows, j < src_row.
template <typename T>
void copy_rows_into(const T* src, std::int64_t rows, std::int64_t src_row, T* dst,
                    std::int64_t dst_row, std::int64_t offset);
// dst[r * dst_row + j] = src[r * src_row + offset + j] for r < rows, j < dst_row.
template <typename T>
void copy_rows_out_of(const T* src, std::int64_t rows, std::int64_t src_row, std::int64_t offset,
                      T* dst, std::int64_t dst_row);
}  // namespace cpu

namespace cuda {
void copy_rows_into(const float* src, std::int64_t rows, std::int64_t src_row, float* dst,
                    std::int64_t dst_row, std::int64_t offset, CudaStream stream);
void copy_rows_out_of(const float* src, std::int64_t rows, std::int64_t src_row,
                      std::int64_t offset, float* dst, std::int64_t dst_row, CudaStream stream);
}  // namespace cuda

// The inputs ([N, C_k, ...], the same N and trailing dims, dtype and device) joined along dim 1.
Tensor concat_channels(const std::vector<Tensor>& inputs);
// The parts of `grad` ([N, sum C_k, ...]) that belong to inputs with `channels[k]` channels.
std::vector<Tensor> split_channels(const Tensor& grad, const std::vector<std::int64_t>& channels);

}  // namespace dlfs::kernels
