#pragma once
// Cross-entropy of predicted probabilities against targets, as the book's cross_entropy_error:
// -sum(t * log(y + delta)) / N with a small delta (1e-7) so that a probability of 0 gives a
// large finite loss (16.1) instead of inf. Targets are Int32 class labels or [N, C]
// distributions (kernels/loss_targets.hpp). Labels must be in [0, C): the CPU kernels assume it
// (the op checks first); the CUDA kernels check and report through `status`.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

constexpr double kCrossEntropyDelta = 1e-7;

namespace cpu {
// *loss = mean over rows of -log(p[n, labels[n]] + delta); sums in double.
template <typename T>
void cross_entropy(const T* p, const std::int32_t* labels, T* loss, std::int64_t rows,
                   std::int64_t cols);
// *loss = mean over rows of -sum_c targets[n, c] * log(p[n, c] + delta).
template <typename T>
void cross_entropy(const T* p, const T* targets, T* loss, std::int64_t rows, std::int64_t cols);
}  // namespace cpu

namespace cuda {
// row_loss: [rows] workspace for per-row losses; loss: [1]; status: [2] = {first row whose
// label is outside [0, cols) or -1, that label}; partials: loss_workspace_doubles(rows) doubles
// of workspace (kernels/cuda/loss_mean.hpp; null: one block sums every row).
void cross_entropy(const float* p, const std::int32_t* labels, float* row_loss, float* loss,
                   std::int64_t* status, std::int64_t rows, std::int64_t cols, CudaStream stream,
                   double* partials);
void cross_entropy(const float* p, const float* targets, float* row_loss, float* loss,
                   std::int64_t rows, std::int64_t cols, CudaStream stream, double* partials);
}  // namespace cuda

// The mean cross-entropy of probabilities [N, C] against Int32 labels [N] or a [N, C]
// distribution, as a [1] tensor on the probabilities' device. Throws naming the first label
// outside [0, C).
Tensor cross_entropy(const Tensor& probabilities, const Tensor& targets);

}  // namespace dlfs::kernels
