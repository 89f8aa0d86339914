#include "dlfs/kernels/concat.hpp"
#include "dlfs/kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop over the elements of the part (rows * part_row), one element per thread per
// iteration: consecutive threads copy consecutive elements of a row, so reads and writes are
// coalesced. `into` chooses the direction: part -> whole (concat) or whole -> part (split).
template <bool into>
__global__ void copy_rows_kernel(const float* src, float* dst, std::int64_t rows,
                                 std::int64_t part_row, std::int64_t whole_row,
                                 std::int64_t offset) {
  DLFS_GRID_STRIDE_LOOP(i, rows * part_row) {
    const std::int64_t r = i / part_row, j = i - r * part_row;
    if (into)
      dst[r * whole_row + offset + j] = src[i];
    else
      dst[i] = src[r * whole_row + offset + j];
  }
}
}  // namespace

void copy_rows_into(const float* src, std::int64_t rows, std::int64_t src_row, float* dst,
                    std::int64_t dst_row, std::int64_t offset, CudaStream stream) {
  const std::int64_t n = rows * src_row;
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, copy_rows_kernel<true>)
  (src, dst, rows, src_row, dst_row, offset);
  DLFS_CUDA_CHECK_LAUNCH();
}

void copy_rows_out_of(const float* src, std::int64_t rows, std::int64_t src_row,
                      std::int64_t offset, float* dst, std::int64_t dst_row, CudaStream stream) {
  const std::int64_t n = rows * dst_row;
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, copy_rows_kernel<false>)
  (src, dst, rows, dst_row, src_row, offset);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
