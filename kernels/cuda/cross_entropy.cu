#include "kernels/cross_entropy.hpp"
#include "kernels/cuda/online_softmax.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

constexpr float kDelta = static_cast<float>(kCrossEntropyDelta);
constexpr int kMeanThreads = 1024;

// One thread per row, grid-stride: each row contributes the single entry its label picks.
// A label outside [0, cols) reads nothing and leaves NaN (mean_row_losses reports it).
__global__ void label_losses_kernel(const float* p, const std::int32_t* labels, float* row_loss,
                                    std::int64_t rows, std::int64_t cols) {
  DLFS_GRID_STRIDE_LOOP(n, rows) {
    const std::int32_t label = labels[n];
    row_loss[n] = label >= 0 && label < cols ? -logf(p[n * cols + label] + kDelta) : NAN;
  }
}

// A group per row (row_group_width(cols) lanes of one warp up to 1024 columns, a block beyond),
// rows strided over the grid: the group's threads stride over the columns and their partial sums
// meet in a shuffle reduction.
template <bool kBlockPerRow>
__global__ void distribution_losses_kernel(const float* p, const float* targets, float* row_loss,
                                           std::int64_t rows, std::int64_t cols, int width) {
  DLFS_SHARED_ARRAY(float, scratch, kWarp);
  const RowGroup g = row_group<kBlockPerRow>(width);
  for (std::int64_t r = g.first_row; g.round_has_rows(r, rows); r += g.row_stride) {
    const bool active = r < rows;  // else idle: joins the group's shuffles with an empty row
    const std::int64_t n = active ? cols : 0;
    float sum = 0.0f;
    for (std::int64_t c = g.rank; c < n; c += g.width) {
      const float t = targets[r * cols + c];
      if (t != 0.0f) sum -= t * logf(p[r * cols + c] + kDelta);
    }
    sum = row_group_sum<kBlockPerRow>(sum, g, scratch);
    if (active && g.rank == 0) row_loss[r] = sum;
  }
}

__device__ inline std::int64_t warp_min(std::int64_t v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const std::int64_t other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = other < v ? other : v;
  }
  return v;
}

// One block: thread i sums rows i, i + 1024, ... and remembers the first bad label it saw;
// the block then reduces both in a fixed order, so the loss is the same on every run.
__global__ void mean_row_losses_kernel(const float* row_loss, std::int64_t rows,
                                       const std::int32_t* labels, std::int64_t classes,
                                       float* loss, std::int64_t* status) {
  DLFS_SHARED_ARRAY(float, scratch, kWarp);
  DLFS_SHARED_ARRAY(std::int64_t, bad_scratch, kWarp);
  float sum = 0.0f;
  std::int64_t bad = rows;  // "none" until a bad label is seen
  for (std::int64_t i = threadIdx.x; i < rows; i += blockDim.x) {
    sum += row_loss[i];
    if (labels && bad == rows && (labels[i] < 0 || labels[i] >= classes)) bad = i;
  }
  sum = block_sum(sum, scratch);
  if (labels) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    bad = warp_min(bad);
    if (lane == 0) bad_scratch[warp] = bad;
    __syncthreads();
    bad = lane < static_cast<int>(blockDim.x / kWarp) ? bad_scratch[lane] : rows;
    bad = warp_min(bad);
  }
  if (threadIdx.x == 0) {
    *loss = sum / static_cast<float>(rows);
    if (labels) {
      status[0] = bad < rows ? bad : -1;
      status[1] = bad < rows ? labels[bad] : 0;
    }
  }
}
}  // namespace

void mean_row_losses(const float* row_loss, std::int64_t rows, const std::int32_t* labels,
                     std::int64_t classes, float* loss, std::int64_t* status, CudaStream stream) {
  DLFS_LAUNCH(1, kMeanThreads, 0, stream, mean_row_losses_kernel)
  (row_loss, rows, labels, classes, loss, status);
  DLFS_CUDA_CHECK_LAUNCH();
}

void cross_entropy(const float* p, const std::int32_t* labels, float* row_loss, float* loss,
                   std::int64_t* status, std::int64_t rows, std::int64_t cols, CudaStream stream) {
  DLFS_LAUNCH(blocks_for(rows), kThreads, 0, stream, label_losses_kernel)
  (p, labels, row_loss, rows, cols);
  DLFS_CUDA_CHECK_LAUNCH();
  mean_row_losses(row_loss, rows, labels, cols, loss, status, stream);
}

void cross_entropy(const float* p, const float* targets, float* row_loss, float* loss,
                   std::int64_t rows, std::int64_t cols, CudaStream stream) {
  const RowLaunch l = row_launch(rows, cols);
  if (l.block_per_row) {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, distribution_losses_kernel<true>)
    (p, targets, row_loss, rows, cols, l.width);
  } else {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, distribution_losses_kernel<false>)
    (p, targets, row_loss, rows, cols, l.width);
  }
  DLFS_CUDA_CHECK_LAUNCH();
  mean_row_losses(row_loss, rows, nullptr, cols, loss, nullptr, stream);
}

}  // namespace dlfs::kernels::cuda
