#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/global_avg_pool.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// One block per plane: its threads stride over the plane and reduce with block_sum in a fixed
// order (deterministic, no atomics). Small planes (ResNet's 7x7) get one warp per block.
__global__ void global_avg_pool_forward_kernel(const float* x, float* y, std::int64_t spatial) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const float* xp = x + static_cast<std::int64_t>(blockIdx.x) * spatial;
  float sum = 0.0f;
  for (std::int64_t s = threadIdx.x; s < spatial; s += blockDim.x) sum += xp[s];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) y[blockIdx.x] = sum / static_cast<float>(spatial);
}

// Grid-stride loop, one thread per input pixel.
__global__ void global_avg_pool_backward_kernel(const float* dy, float* dx, std::int64_t total,
                                                std::int64_t spatial) {
  const float count = static_cast<float>(spatial);
  DLFS_GRID_STRIDE_LOOP(i, total) {
    dx[i] = dy[i / spatial] / count;
  }
}
}  // namespace

void global_avg_pool_forward(const float* x, float* y, std::int64_t planes, std::int64_t spatial,
                             CudaStream stream) {
  if (planes == 0) return;
  if (planes > 0x7fffffff) throw Error("global_avg_pool_forward: too many planes for one grid");
  const int threads = spatial <= 4 * kWarp ? kWarp : kThreads;
  DLFS_LAUNCH(static_cast<unsigned>(planes), threads, 0, stream, global_avg_pool_forward_kernel)
  (x, y, spatial);
  DLFS_CUDA_CHECK_LAUNCH();
}

void global_avg_pool_backward(const float* dy, float* dx, std::int64_t planes, std::int64_t spatial,
                              CudaStream stream) {
  const std::int64_t total = planes * spatial;
  if (total == 0) return;
  DLFS_LAUNCH(blocks_for(total), kThreads, 0, stream, global_avg_pool_backward_kernel)
  (dy, dx, total, spatial);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
