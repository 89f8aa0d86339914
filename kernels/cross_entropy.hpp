#pragma once
// Cross-entropy of predicted probabilities against targets, as the book's cross_entropy_error:
// -sum(t * log(y + delta)) / N with a small delta (1e-7) so that a probability of 0 gives a
// large finite loss (16.1) instead of inf. Targets are Int32 class labels or [N, C]
// distributions (kernels/loss_targets.hpp). Labels must be in [0, C): the CPU kernels assume it
// (the op checks first); the CUDA kernels check and report through `status`.
#include <cstdint>

#include "runtime/cuda_context.hpp"
#include "runtime/tensor.hpp"

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
// of workspace for mean_row_losses (null: one block sums every row).
void cross_entropy(const float* p, const std::int32_t* labels, float* row_loss, float* loss,
                   std::int64_t* status, std::int64_t rows, std::int64_t cols, CudaStream stream,
                   double* partials);
void cross_entropy(const float* p, const float* targets, float* row_loss, float* loss,
                   std::int64_t rows, std::int64_t cols, CudaStream stream, double* partials);

// The last step of the CUDA losses: *loss = sum(row_loss[0, rows)) / rows, summed in double in
// two deterministic stages: loss_partial_blocks(rows) blocks (a number that depends on rows
// alone) each sum a contiguous run of rows into `partials`, then one block sums those in a fixed
// order. With labels (may be null) it also writes status as above. Without partials (null) one
// block sums every row.
void mean_row_losses(const float* row_loss, std::int64_t rows, const std::int32_t* labels,
                     std::int64_t classes, float* loss, std::int64_t* status, CudaStream stream,
                     double* partials);

// The most first-stage blocks of mean_row_losses, and the fewest rows each sums.
constexpr std::int64_t kMaxLossPartials = 1024;
constexpr std::int64_t kMinRowsPerLossPartial = 1024;
// Rows each first-stage block sums, and how many blocks that makes for `rows` rows (at least 1).
constexpr std::int64_t loss_rows_per_partial(std::int64_t rows) {
  const std::int64_t spread = (rows + kMaxLossPartials - 1) / kMaxLossPartials;
  return spread > kMinRowsPerLossPartial ? spread : kMinRowsPerLossPartial;
}
constexpr std::int64_t loss_partial_blocks(std::int64_t rows) {
  const std::int64_t per = loss_rows_per_partial(rows);
  return rows > per ? (rows + per - 1) / per : 1;
}
// Size of the `partials` workspace: two 8-byte words per first-stage block (its sum and the
// first row with a bad label it found).
constexpr std::int64_t loss_workspace_doubles(std::int64_t rows) {
  return 2 * loss_partial_blocks(rows);
}
}  // namespace cuda

// The mean cross-entropy of probabilities [N, C] against Int32 labels [N] or a [N, C]
// distribution, as a [1] tensor on the probabilities' device. Throws naming the first label
// outside [0, C).
Tensor cross_entropy(const Tensor& probabilities, const Tensor& targets);

}  // namespace dlfs::kernels
