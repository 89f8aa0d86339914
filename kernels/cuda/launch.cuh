#pragma once
// Shared helpers for dlfs CUDA kernels: launch sizes, grid-stride loops, warp and block
// reductions. Kernels include this; it is not part of any public header.
#include <cstdint>

#include "dlfs/runtime/cuda_check.hpp"
#include "dlfs/runtime/cuda_launch.hpp"

namespace dlfs::kernels::cuda_detail {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

// Enough blocks of kThreads to cover n elements once, capped so grid-stride loops take over.
inline int blocks_for(std::int64_t n, int threads = kThreads) {
  const std::int64_t wanted = (n + threads - 1) / threads;
  return static_cast<int>(wanted < 1 ? 1 : (wanted > 65535 ? 65535 : wanted));
}

#define DLFS_GRID_STRIDE_LOOP(i, n)                                                                \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

// Sum over the warp (float or double); every lane gets the result.
template <typename T>
__device__ inline T warp_sum(T v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ inline float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` holds 32 values of shared memory (float or double, as v).
template <typename T>
__device__ inline T block_sum(T v, SharedArray<T> scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  v = lane < warps ? static_cast<T>(scratch[lane]) : T(0);
  return warp_sum(v);
}

__device__ inline float block_max(float v, SharedArray<float> scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

}  // namespace dlfs::kernels::cuda_detail
