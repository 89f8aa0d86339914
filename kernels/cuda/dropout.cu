#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/dropout.hpp"
#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one element per thread per iteration; each thread draws the random number
// of its own element from the counter-based stream (no generator state is shared between
// threads), so the mask does not depend on the launch configuration.
__global__ void dropout_forward_kernel(const float* x, float* y, std::uint8_t* mask, std::int64_t n,
                                       float p, float scale, std::uint64_t seed,
                                       std::uint64_t offset) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const bool keep = rng::uniform_float(seed, offset + static_cast<std::uint64_t>(i)) >= p;
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}

__global__ void dropout_backward_kernel(const float* dy, const std::uint8_t* mask, float* dx,
                                        std::int64_t n, float scale) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    dx[i] = mask[i] ? dy[i] * scale : 0.0f;
  }
}
}  // namespace

void dropout_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, float p,
                     float scale, std::uint64_t seed, std::uint64_t offset, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, dropout_forward_kernel)
  (x, y, mask, n, p, scale, seed, offset);
  DLFS_CUDA_CHECK_LAUNCH();
}

void dropout_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n,
                      float scale, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, dropout_backward_kernel)(dy, mask, dx, n, scale);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
