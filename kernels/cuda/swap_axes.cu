#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/swap_axes.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one output element per thread per iteration. Neighbouring threads handle
// neighbouring elements of one block, so reads and writes are both coalesced when the block
// (H*W for convolutions) is at least a warp wide.
__global__ void swap_leading_axes_kernel(const float* x, float* y, std::int64_t outer,
                                         std::int64_t inner, std::int64_t block) {
  const std::int64_t total = outer * inner * block;
  DLFS_GRID_STRIDE_LOOP(index, total) {
    const std::int64_t s = index % block;
    const std::int64_t a = (index / block) % outer;
    const std::int64_t b = index / (block * outer);
    y[index] = x[(a * inner + b) * block + s];
  }
}
}  // namespace

void swap_leading_axes(const float* x, float* y, std::int64_t outer, std::int64_t inner,
                       std::int64_t block, CudaStream stream) {
  const std::int64_t total = outer * inner * block;
  if (total == 0) return;
  DLFS_LAUNCH(blocks_for(total), kThreads, 0, stream, swap_leading_axes_kernel)
  (x, y, outer, inner, block);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
