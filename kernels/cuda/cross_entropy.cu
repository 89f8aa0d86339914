#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/cuda/online_softmax.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

constexpr int kMeanThreads = 256;

// Each row's loss term is computed in double, as the CPU twin (kernels/cpu/cross_entropy.cpp)
// does, and only then rounded to float: in float, p + 1e-7 already rounds (at p = 1 it is
// 1 + 2^-23, so -logf gives 1.19e-7 where the CPU has 1.0e-7, 19% off), and near p = 1 every
// term is dominated by that rounding. In double the term is good to about 1e-16 relative and its
// one rounding to float (row_loss) costs 6e-8 relative. The mean is summed in double too, so the
// GPU's loss stays within a few float roundings of the CPU's whatever the number of rows. The
// cost is one double log a row (labels) or a nonzero target (distributions).
__device__ inline double loss_term(float p) {
  return -log(static_cast<double>(p) + kCrossEntropyDelta);
}

// One thread per row, grid-stride: each row contributes the single entry its label picks.
// A label outside [0, cols) reads nothing and leaves NaN (mean_row_losses reports it).
__global__ void label_losses_kernel(const float* p, const std::int32_t* labels, float* row_loss,
                                    std::int64_t rows, std::int64_t cols) {
  DLFS_GRID_STRIDE_LOOP(n, rows) {
    const std::int32_t label = labels[n];
    row_loss[n] =
        label >= 0 && label < cols ? static_cast<float>(loss_term(p[n * cols + label])) : NAN;
  }
}

// A group per row (row_group_width(cols) lanes of one warp up to 1024 columns, a block beyond),
// rows strided over the grid: the group's threads stride over the columns, summing in double, and
// their partial sums meet in a shuffle reduction.
template <bool kBlockPerRow>
__global__ void distribution_losses_kernel(const float* p, const float* targets, float* row_loss,
                                           std::int64_t rows, std::int64_t cols, int width) {
  DLFS_SHARED_ARRAY(double, scratch, kWarp);
  const RowGroup g = row_group<kBlockPerRow>(width);
  for (std::int64_t r = g.first_row; g.round_has_rows(r, rows); r += g.row_stride) {
    const bool active = r < rows;  // else idle: joins the group's shuffles with an empty row
    const std::int64_t n = active ? cols : 0;
    double sum = 0.0;
    for (std::int64_t c = g.rank; c < n; c += g.width) {
      const float t = targets[r * cols + c];
      if (t != 0.0f) sum += static_cast<double>(t) * loss_term(p[r * cols + c]);
    }
    sum = row_group_sum<kBlockPerRow>(sum, g, scratch);
    if (active && g.rank == 0) row_loss[r] = static_cast<float>(sum);
  }
}

__device__ inline std::int64_t warp_min(std::int64_t v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const std::int64_t other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = other < v ? other : v;
  }
  return v;
}

// Minimum over the block (blockDim.x a multiple of 32); every thread gets it.
__device__ inline std::int64_t block_min(std::int64_t v, SharedArray<std::int64_t> scratch,
                                         std::int64_t identity) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_min(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / kWarp) ? static_cast<std::int64_t>(scratch[lane])
                                                  : identity;
  return warp_min(v);
}

// The end of the mean: *loss and, with labels, status = {first bad row or -1, its label}, where
// a first bad row of `rows` means none.
__device__ inline void write_mean(double sum, std::int64_t bad, std::int64_t rows,
                                  const std::int32_t* labels, float* loss, std::int64_t* status) {
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (labels) {
    status[0] = bad < rows ? bad : -1;
    status[1] = bad < rows ? labels[bad] : 0;
  }
}

// Stage 1 of the mean, kMeanThreads threads a block: block b owns the contiguous rows
// [b * per_block, (b + 1) * per_block) and its thread t sums rows begin + t, begin + t + 256, ...
// in that order (four loads issued before their adds), in double; the block adds the threads'
// sums in a fixed tree and finds the first row of its run whose label is outside [0, classes).
// A grid of one block writes the mean and status itself; otherwise block b leaves its sum in
// partials[b] and its first bad row (rows: none) in partials[gridDim.x + b], read as int64.
// The split depends on rows alone, so the loss is the same on every run and every GPU.
__global__ void mean_partials_kernel(const float* row_loss, std::int64_t rows,
                                     std::int64_t per_block, const std::int32_t* labels,
                                     std::int64_t classes, double* partials, float* loss,
                                     std::int64_t* status) {
  DLFS_SHARED_ARRAY(double, scratch, kWarp);
  DLFS_SHARED_ARRAY(std::int64_t, bad_scratch, kWarp);
  const std::int64_t begin = blockIdx.x * per_block;
  const std::int64_t end = begin + per_block < rows ? begin + per_block : rows;
  const std::int64_t step = blockDim.x;
  double sum = 0.0;
  std::int64_t i = begin + threadIdx.x;
  for (; i + 3 * step < end; i += 4 * step) {
    const float a = row_loss[i], b = row_loss[i + step], c = row_loss[i + 2 * step],
                d = row_loss[i + 3 * step];
    sum += a;
    sum += b;
    sum += c;
    sum += d;
  }
  for (; i < end; i += step) sum += row_loss[i];
  sum = block_sum(sum, scratch);
  std::int64_t bad = rows;  // none until a bad label is seen
  if (labels) {
    for (std::int64_t j = begin + threadIdx.x; j < end; j += step) {
      if (labels[j] < 0 || labels[j] >= classes) {
        bad = j;  // a thread's rows rise, so its first is its smallest
        break;
      }
    }
    bad = block_min(bad, bad_scratch, rows);
  }
  if (threadIdx.x != 0) return;
  if (gridDim.x == 1) {
    write_mean(sum, bad, rows, labels, loss, status);
  } else {
    partials[blockIdx.x] = sum;
    reinterpret_cast<std::int64_t*>(partials + gridDim.x)[blockIdx.x] = bad;
  }
}

// Stage 2 of the mean, one block of kMeanThreads: thread t adds partials t, t + 256, ... in
// order, in double, the block adds those in a fixed tree and takes the least first bad row.
__global__ void mean_combine_kernel(const double* partials, std::int64_t count, std::int64_t rows,
                                    const std::int32_t* labels, float* loss, std::int64_t* status) {
  DLFS_SHARED_ARRAY(double, scratch, kWarp);
  DLFS_SHARED_ARRAY(std::int64_t, bad_scratch, kWarp);
  const auto* partial_bad = reinterpret_cast<const std::int64_t*>(partials + count);
  double sum = 0.0;
  std::int64_t bad = rows;
  for (std::int64_t b = threadIdx.x; b < count; b += blockDim.x) {
    sum += partials[b];
    if (labels && partial_bad[b] < bad) bad = partial_bad[b];
  }
  sum = block_sum(sum, scratch);
  if (labels) bad = block_min(bad, bad_scratch, rows);
  if (threadIdx.x == 0) write_mean(sum, bad, rows, labels, loss, status);
}
}  // namespace

void mean_row_losses(const float* row_loss, std::int64_t rows, const std::int32_t* labels,
                     std::int64_t classes, float* loss, std::int64_t* status, CudaStream stream,
                     double* partials) {
  const std::int64_t blocks = partials ? loss_partial_blocks(rows) : 1;
  const std::int64_t per_block = partials ? loss_rows_per_partial(rows) : rows;
  DLFS_LAUNCH(static_cast<unsigned>(blocks), kMeanThreads, 0, stream, mean_partials_kernel)
  (row_loss, rows, per_block, labels, classes, partials, loss, status);
  DLFS_CUDA_CHECK_LAUNCH();
  if (blocks == 1) return;
  DLFS_LAUNCH(1, kMeanThreads, 0, stream, mean_combine_kernel)
  (partials, blocks, rows, labels, loss, status);
  DLFS_CUDA_CHECK_LAUNCH();
}

void cross_entropy(const float* p, const std::int32_t* labels, float* row_loss, float* loss,
                   std::int64_t* status, std::int64_t rows, std::int64_t cols, CudaStream stream,
                   double* partials) {
  DLFS_LAUNCH(blocks_for(rows), kThreads, 0, stream, label_losses_kernel)
  (p, labels, row_loss, rows, cols);
  DLFS_CUDA_CHECK_LAUNCH();
  mean_row_losses(row_loss, rows, labels, cols, loss, status, stream, partials);
}

void cross_entropy(const float* p, const float* targets, float* row_loss, float* loss,
                   std::int64_t rows, std::int64_t cols, CudaStream stream, double* partials) {
  const RowLaunch l = row_launch(rows, cols);
  if (l.block_per_row) {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, distribution_losses_kernel<true>)
    (p, targets, row_loss, rows, cols, l.width);
  } else {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, distribution_losses_kernel<false>)
    (p, targets, row_loss, rows, cols, l.width);
  }
  DLFS_CUDA_CHECK_LAUNCH();
  mean_row_losses(row_loss, rows, nullptr, cols, loss, nullptr, stream, partials);
}

}  // namespace dlfs::kernels::cuda
