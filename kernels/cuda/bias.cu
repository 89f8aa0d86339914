#include "kernels/bias.hpp"
#include "kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop over all N*C*S elements; the channel is recovered from the flat index.
__global__ void bias_add_kernel(float* y, const float* bias, std::int64_t total,
                                std::int64_t channels, std::int64_t spatial) {
  DLFS_GRID_STRIDE_LOOP(i, total) {
    y[i] += bias[(i / spatial) % channels];
  }
}

// One block per channel; its threads stride over the N*S elements of that channel and reduce
// in shared memory in a fixed order, so the result is deterministic (no atomics).
__global__ void bias_grad_kernel(const float* dy, float* dbias, std::int64_t batch,
                                 std::int64_t channels, std::int64_t spatial) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const std::int64_t c = blockIdx.x;
  const std::int64_t count = batch * spatial;
  float sum = 0.0f;
  for (std::int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const std::int64_t n = j / spatial, s = j % spatial;
    sum += dy[(n * channels + c) * spatial + s];
  }
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) dbias[c] = sum;
}
}  // namespace

void bias_add(float* y, const float* bias, std::int64_t batch, std::int64_t channels,
              std::int64_t spatial, CudaStream stream) {
  const std::int64_t total = batch * channels * spatial;
  if (total == 0) return;
  DLFS_LAUNCH(blocks_for(total), kThreads, 0, stream, bias_add_kernel)
  (y, bias, total, channels, spatial);
  DLFS_CUDA_CHECK_LAUNCH();
}

void bias_grad(const float* dy, float* dbias, std::int64_t batch, std::int64_t channels,
               std::int64_t spatial, CudaStream stream) {
  if (channels == 0) return;
  DLFS_LAUNCH(static_cast<unsigned>(channels), kThreads, 0, stream, bias_grad_kernel)
  (dy, dbias, batch, channels, spatial);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
