#pragma once
// The online (max, sum) pass shared by the row-wise softmax kernels: one read of a row yields
// its maximum m and s = sum(exp(x - m)), so a second read can write exp(x - m) / s.
// Partial results of threads merge exactly like partial rows (Milakov & Gimelshein 2018), so
// a warp or a block reduces them with shuffles in a fixed order: deterministic, no atomics.
//
// -inf entries contribute nothing; a row that is -inf everywhere has s = 0 (and so NaN
// probabilities, as NumPy and PyTorch give). NaN entries make s NaN.
#include <cstdint>

#include "kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda_detail {

// Rows of at most this many columns get one warp; longer rows get a block.
constexpr std::int64_t kWarpRowLimit = 1024;
// Threads of a block that handles one long row.
constexpr int kRowBlockThreads = 512;

struct MaxSum {
  float max;
  float sum;
};

__device__ inline MaxSum max_sum_identity() {
  return {-INFINITY, 0.0f};
}

// Adds one entry to a running (max, sum).
__device__ inline void max_sum_add(MaxSum& acc, float v) {
  if (v > acc.max) {
    acc.sum = acc.sum * expf(acc.max - v) + 1.0f;  // rescale what was summed under the old max
    acc.max = v;
  } else if (v != -INFINITY) {  // -inf adds 0; skipping it avoids exp(-inf - -inf) = NaN
    acc.sum += expf(v - acc.max);
  }
}

__device__ inline MaxSum max_sum_merge(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.max, b.max);
  if (m == -INFINITY) return {m, a.sum + b.sum};  // both empty so far (keeps a NaN sum NaN)
  return {m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
}

// Every lane of the warp gets the merge of all 32 lanes' values.
__device__ inline MaxSum warp_max_sum(MaxSum v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    MaxSum other;
    other.max = __shfl_xor_sync(0xffffffffu, v.max, offset);
    other.sum = __shfl_xor_sync(0xffffffffu, v.sum, offset);
    v = max_sum_merge(v, other);
  }
  return v;
}

// Every thread of the block (blockDim.x a multiple of 32) gets the merge of all threads'
// values. `scratch` holds 32 MaxSum of shared memory.
__device__ inline MaxSum block_max_sum(MaxSum v, SharedArray<MaxSum> scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_max_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  v = lane < warps ? scratch[lane] : max_sum_identity();
  return warp_max_sum(v);
}

// The (max, sum) of row[0, cols) computed by a group of `width` threads of which this is
// thread `rank`: a warp (width 32, reduced with shuffles) or a whole block (width blockDim.x).
template <bool kBlockPerRow>
__device__ inline MaxSum row_max_sum(const float* row, std::int64_t cols, int rank, int width,
                                     SharedArray<MaxSum> scratch) {
  MaxSum acc = max_sum_identity();
  for (std::int64_t c = rank; c < cols; c += width) max_sum_add(acc, row[c]);
  if constexpr (kBlockPerRow) {
    return block_max_sum(acc, scratch);
  } else {
    (void)scratch;
    return warp_max_sum(acc);
  }
}

// Sum over a warp or a block, as row_max_sum groups its threads.
template <bool kBlockPerRow>
__device__ inline float group_sum(float v, SharedArray<float> scratch) {
  if constexpr (kBlockPerRow) {
    return block_sum(v, scratch);
  } else {
    (void)scratch;
    return warp_sum(v);
  }
}

// Where a thread sits when rows are spread over warps (short rows) or blocks (long rows):
// its group's first row, the stride between the rows the group visits, its rank in the group.
struct RowGroup {
  std::int64_t first_row;
  std::int64_t row_stride;
  int rank;
  int width;
};

template <bool kBlockPerRow>
__device__ inline RowGroup row_group() {
  if constexpr (kBlockPerRow) {
    return {blockIdx.x, gridDim.x, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x)};
  } else {
    const int warps_per_block = blockDim.x / kWarp;
    return {static_cast<std::int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / kWarp,
            static_cast<std::int64_t>(gridDim.x) * warps_per_block,
            static_cast<int>(threadIdx.x % kWarp), kWarp};
  }
}

// Launch shape for a row kernel: blocks of kThreads holding kThreads/32 warps (one row each)
// for short rows, one block of kRowBlockThreads per row for long rows. Grids are capped; the
// kernels loop over rows with a stride.
struct RowLaunch {
  int blocks;
  int threads;
  bool block_per_row;
};

inline RowLaunch row_launch(std::int64_t rows, std::int64_t cols) {
  if (cols <= kWarpRowLimit) return {blocks_for(rows * kWarp), kThreads, false};
  return {blocks_for(rows, 1), kRowBlockThreads, true};
}

}  // namespace dlfs::kernels::cuda_detail
