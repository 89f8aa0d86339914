#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/scale.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one element per thread per iteration: memory-bound, coalesced. y may be x.
__global__ void scale_kernel(const float* x, float alpha, float* y, std::int64_t n) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    y[i] = alpha * x[i];
  }
}

// Same mapping. __fmul_rn/__fadd_rn forbid contraction into an FMA, so each element is rounded
// twice as on the CPU and the two twins agree bit for bit.
__global__ void axpy_kernel(float alpha, const float* x, float* y, std::int64_t n) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
  }
}
}  // namespace

void scale(const float* x, float alpha, float* y, std::int64_t n, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, scale_kernel)(x, alpha, y, n);
  DLFS_CUDA_CHECK_LAUNCH();
}

void axpy(float alpha, const float* x, float* y, std::int64_t n, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, axpy_kernel)(alpha, x, y, n);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
