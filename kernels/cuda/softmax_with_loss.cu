#include <type_traits>

#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/cuda/online_softmax.cuh"
#include "dlfs/kernels/softmax_with_loss.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// A group per row, rows strided over the grid: row_group_width(cols) lanes of one warp for rows
// up to 1024 columns (a warp serves several short rows), a block beyond. The group's threads
// stride over the row's columns: the row's (max, sum) (online_softmax.cuh), then a pass writing
// probabilities. The row's loss is the log-sum-exp minus the label's shifted logit (rank 0 reads
// it) or, for distributions, a second group reduction. Target is std::int32_t (labels) or float
// (distributions).
template <bool kBlockPerRow, typename Target>
__global__ void softmax_with_loss_forward_kernel(const float* logits, const Target* targets,
                                                 float* probs, float* row_loss, std::int64_t rows,
                                                 std::int64_t cols, int width) {
  constexpr bool kLabels = std::is_same_v<Target, std::int32_t>;
  DLFS_SHARED_ARRAY(float, scratch, kWarp);
  DLFS_SHARED_ARRAY(float, sum_scratch, kWarp);
  const RowGroup g = row_group<kBlockPerRow>(width);
  for (std::int64_t r = g.first_row; g.round_has_rows(r, rows); r += g.row_stride) {
    const bool active = r < rows;  // else idle: joins the group's shuffles with an empty row
    const std::int64_t row = active ? r : 0, n = active ? cols : 0;
    const float* x = logits + row * cols;
    float* y = probs + row * cols;
    const MaxSum ms = row_max_sum<kBlockPerRow>(x, n, g, scratch);
    const float log_sum = logf(ms.sum);
    float loss = 0.0f;
    for (std::int64_t c = g.rank; c < n; c += g.width) {
      const float shifted = x[c] - ms.max;
      y[c] = expf(shifted) / ms.sum;
      if constexpr (!kLabels) {
        const float t = targets[row * cols + c];
        if (t != 0.0f) loss += t * (log_sum - shifted);  // zero targets add nothing, even at -inf
      }
    }
    if constexpr (kLabels) {
      if (active && g.rank == 0) {
        const std::int32_t label = targets[r];
        row_loss[r] = label >= 0 && label < cols ? log_sum - (x[label] - ms.max) : NAN;
      }
    } else {
      loss = row_group_sum<kBlockPerRow>(loss, g, sum_scratch);
      if (active && g.rank == 0) row_loss[r] = loss;
    }
  }
}

template <typename Target>
void launch_forward(const float* logits, const Target* targets, float* probs, float* row_loss,
                    std::int64_t rows, std::int64_t cols, CudaStream stream) {
  const RowLaunch l = row_launch(rows, cols);
  if (l.block_per_row) {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_with_loss_forward_kernel<true, Target>)
    (logits, targets, probs, row_loss, rows, cols, l.width);
  } else {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_with_loss_forward_kernel<false, Target>)
    (logits, targets, probs, row_loss, rows, cols, l.width);
  }
  DLFS_CUDA_CHECK_LAUNCH();
}

// Grid-stride loop over all rows * cols gradient entries; the upstream gradient is read on the
// device so the host never waits for it.
template <typename Target>
__global__ void softmax_with_loss_backward_kernel(const float* probs, const Target* targets,
                                                  const float* dloss, float* dlogits,
                                                  std::int64_t rows, std::int64_t cols) {
  const float scale = *dloss / static_cast<float>(rows);
  DLFS_GRID_STRIDE_LOOP(i, rows * cols) {
    float t;
    if constexpr (std::is_same_v<Target, std::int32_t>)
      t = i % cols == targets[i / cols] ? 1.0f : 0.0f;
    else
      t = targets[i];
    dlogits[i] = (probs[i] - t) * scale;
  }
}

template <typename Target>
void launch_backward(const float* probs, const Target* targets, const float* dloss, float* dlogits,
                     std::int64_t rows, std::int64_t cols, CudaStream stream) {
  if (rows * cols == 0) return;
  DLFS_LAUNCH(blocks_for(rows * cols), kThreads, 0, stream,
              softmax_with_loss_backward_kernel<Target>)
  (probs, targets, dloss, dlogits, rows, cols);
  DLFS_CUDA_CHECK_LAUNCH();
}
}  // namespace

void softmax_with_loss_forward(const float* logits, const std::int32_t* labels, float* probs,
                               float* row_loss, float* loss, std::int64_t* status,
                               std::int64_t rows, std::int64_t cols, CudaStream stream,
                               double* partials) {
  launch_forward(logits, labels, probs, row_loss, rows, cols, stream);
  mean_row_losses(row_loss, rows, labels, cols, loss, status, stream, partials);
}

void softmax_with_loss_forward(const float* logits, const float* targets, float* probs,
                               float* row_loss, float* loss, std::int64_t rows, std::int64_t cols,
                               CudaStream stream, double* partials) {
  launch_forward(logits, targets, probs, row_loss, rows, cols, stream);
  mean_row_losses(row_loss, rows, nullptr, cols, loss, nullptr, stream, partials);
}

void softmax_with_loss_backward(const float* probs, const std::int32_t* labels, const float* dloss,
                                float* dlogits, std::int64_t rows, std::int64_t cols,
                                CudaStream stream) {
  launch_backward(probs, labels, dloss, dlogits, rows, cols, stream);
}

void softmax_with_loss_backward(const float* probs, const float* targets, const float* dloss,
                                float* dlogits, std::int64_t rows, std::int64_t cols,
                                CudaStream stream) {
  launch_backward(probs, targets, dloss, dlogits, rows, cols, stream);
}

}  // namespace dlfs::kernels::cuda
