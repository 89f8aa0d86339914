#include "kernels/cuda/online_softmax.cuh"
#include "kernels/softmax.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// A group (one warp for short rows, one block for long rows) per row, rows strided over the
// grid: the group's threads stride over the row's columns for the online (max, sum) pass,
// merge it with shuffles, then each writes exp(x - max) / sum for its columns.
template <bool kBlockPerRow>
__global__ void softmax_forward_kernel(const float* x, float* y, std::int64_t rows,
                                       std::int64_t cols) {
  DLFS_SHARED_ARRAY(MaxSum, scratch, kWarp);
  const RowGroup g = row_group<kBlockPerRow>();
  for (std::int64_t r = g.first_row; r < rows; r += g.row_stride) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    const MaxSum ms = row_max_sum<kBlockPerRow>(in, cols, g.rank, g.width, scratch);
    for (std::int64_t c = g.rank; c < cols; c += g.width) out[c] = expf(in[c] - ms.max) / ms.sum;
  }
}
}  // namespace

void softmax_forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                     CudaStream stream) {
  if (rows == 0 || cols == 0) return;
  const RowLaunch l = row_launch(rows, cols);
  if (l.block_per_row)
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_forward_kernel<true>)(x, y, rows, cols);
  else
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_forward_kernel<false>)(x, y, rows, cols);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
