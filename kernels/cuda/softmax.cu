#include "dlfs/kernels/cuda/online_softmax.cuh"
#include "dlfs/kernels/softmax.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// A group per row, rows strided over the grid: row_group_width(cols) lanes of one warp for short
// rows (so a warp serves several short rows), a block for long rows. The group's threads stride
// over the row's columns for its (max, sum) (online_softmax.cuh), then each writes
// exp(x - max) / sum for its columns.
template <bool kBlockPerRow>
__global__ void softmax_forward_kernel(const float* x, float* y, std::int64_t rows,
                                       std::int64_t cols, int width) {
  DLFS_SHARED_ARRAY(float, scratch, kWarp);
  const RowGroup g = row_group<kBlockPerRow>(width);
  for (std::int64_t r = g.first_row; g.round_has_rows(r, rows); r += g.row_stride) {
    const bool active = r < rows;  // else idle: joins the group's shuffles with an empty row
    const float* in = x + (active ? r : 0) * cols;
    float* out = y + (active ? r : 0) * cols;
    const std::int64_t n = active ? cols : 0;
    const MaxSum ms = row_max_sum<kBlockPerRow>(in, n, g, scratch);
    for (std::int64_t c = g.rank; c < n; c += g.width) out[c] = expf(in[c] - ms.max) / ms.sum;
  }
}
}  // namespace

void softmax_forward(const float* x, float* y, std::int64_t rows, std::int64_t cols,
                     CudaStream stream) {
  if (rows == 0 || cols == 0) return;
  const RowLaunch l = row_launch(rows, cols);
  if (l.block_per_row) {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_forward_kernel<true>)
    (x, y, rows, cols, l.width);
  } else {
    DLFS_LAUNCH(l.blocks, l.threads, 0, stream, softmax_forward_kernel<false>)
    (x, y, rows, cols, l.width);
  }
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
