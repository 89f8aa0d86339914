#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/relu.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one element per thread per iteration: memory-bound, coalesced.
__global__ void relu_forward_kernel(const float* x, float* y, std::uint8_t* mask, std::int64_t n) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float v = x[i];
    const bool on = v > 0.0f;
    if (mask) mask[i] = on;  // the same branch for every thread: null in inference
    y[i] = on ? v : 0.0f;
  }
}

__global__ void relu_backward_kernel(const float* dy, const std::uint8_t* mask, float* dx,
                                     std::int64_t n) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    dx[i] = mask[i] ? dy[i] : 0.0f;
  }
}
}  // namespace

void relu_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, relu_forward_kernel)(x, y, mask, n);
  DLFS_CUDA_CHECK_LAUNCH();
}

void relu_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n,
                   CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, relu_backward_kernel)(dy, mask, dx, n);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
