#include "dlfs/kernels/add.hpp"
#include "dlfs/kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one element per thread per iteration: memory-bound, coalesced. Each element
// is read before it is written by the same thread, so y may alias a or b.
__global__ void add_kernel(const float* a, const float* b, float* y, std::int64_t n) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    y[i] = a[i] + b[i];
  }
}
}  // namespace

void add(const float* a, const float* b, float* y, std::int64_t n, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, add_kernel)(a, b, y, n);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
