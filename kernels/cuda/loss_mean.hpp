#pragma once
// Inside the CUDA losses (cross_entropy.cu, softmax_with_loss.cu): the mean of the per-row losses
// and the size of its workspace, which the tensor-level ops (cross_entropy.cpp,
// softmax_with_loss.cpp) allocate from the pool. Not part of the ops' interface; the tests call
// it to check the two-stage sum on its own.
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"

namespace dlfs::kernels::cuda {

// The last step of the CUDA losses: *loss = sum(row_loss[0, rows)) / rows, summed in double in
// two deterministic stages: loss_partial_blocks(rows) blocks (a number that depends on rows
// alone) each sum a contiguous run of rows into `partials`, then one block sums those in a fixed
// order. With labels (may be null) it also writes status [2] = {the first row whose
// label is outside [0, classes) or -1, that label}. Without partials (null) one
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

}  // namespace dlfs::kernels::cuda
