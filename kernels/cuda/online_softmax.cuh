#pragma once
// The row statistics shared by the row-wise softmax kernels: a row's maximum m and
// s = sum(exp(x - m)), so that a later pass can write exp(x - m) / s.
//
// Short rows (at most kGroupRowLimit columns) go to a group of W lanes of one warp, W a power of
// two chosen from the number of columns alone (about kColsPerLane columns a lane, at most 32
// lanes), so that one warp serves 32 / W rows at once: a 10-column row gets 4 lanes, not 32. The
// group takes the exact maximum first (shuffles, no exponential), then sums exp(x - m): one expf
// an element and no rescaling, the order of operations of the CPU twin
// (kernels/cpu/softmax_row.hpp). An online (max, sum) merge would cost two expf a merge, five
// merges a lane whatever the row's length.
// Long rows get a block: each thread keeps an online (max, sum) over its columns (Milakov &
// Gimelshein 2018; one expf an element, no extra pass over a row too long for the cache), the
// block takes the exact maximum of the threads' maxima, each thread rescales its sum once, and
// the block adds the sums.
// Every reduction uses shuffles and shared memory in a fixed order: deterministic, no atomics.
// W depends only on the number of columns, so results are the same on every GPU.
//
// -inf entries contribute nothing; a row that is -inf everywhere gets NaN probabilities (as NumPy
// and PyTorch give); NaN entries make s NaN.
#include <cstdint>

#include "dlfs/kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda_detail {

// Rows of at most this many columns get a group of lanes of one warp; longer rows get a block.
constexpr std::int64_t kGroupRowLimit = 1024;
// Columns a lane of a group aims at: fewer lanes for short rows, all 32 from 128 columns on.
constexpr int kColsPerLane = 4;
// Threads of a block that handles one long row.
constexpr int kRowBlockThreads = 512;

// Lanes of the group that handles a row of `cols` columns (cols <= kGroupRowLimit): the smallest
// power of two W <= 32 with W * kColsPerLane >= cols.
__host__ __device__ inline int row_group_width(std::int64_t cols) {
  int width = 1;
  while (width < kWarp && width * kColsPerLane < cols) width *= 2;
  return width;
}

// Maximum and sum over the `width` lanes of this lane's group (width a power of two <= 32, groups
// aligned within the warp); every lane of the group gets the result. All 32 lanes of the warp
// must call it together (each group reduces its own values).
__device__ inline float group_max(float v, int width) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset, width));
  return v;
}

template <typename T>
__device__ inline T group_sum(T v, int width) {
  for (int offset = width / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset, width);
  return v;
}

struct MaxSum {
  float max;
  float sum;
};

// Where a thread sits when rows are spread over groups of lanes (short rows) or blocks (long
// rows): its group's first row, the stride between the rows the group visits, its rank in the
// group, the group's width and how many groups of its warp come before it.
struct RowGroup {
  std::int64_t first_row;
  std::int64_t row_stride;
  int rank;
  int width;
  int index_in_warp;

  // The loop condition of a kernel that visits rows r = first_row, first_row + row_stride, ...:
  // true while some group of this thread's warp still has a row, so all lanes of a warp run the
  // same rounds and their shuffles stay converged. A group whose r is past the last row runs the
  // round idle (as an empty row) and writes nothing.
  __device__ bool round_has_rows(std::int64_t r, std::int64_t rows) const {
    return r - index_in_warp < rows;
  }
};

// width: lanes per row for short rows (row_group_width); ignored (the whole block) for long rows.
template <bool kBlockPerRow>
__device__ inline RowGroup row_group(int width) {
  if constexpr (kBlockPerRow) {
    return {blockIdx.x, gridDim.x, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), 0};
  } else {
    const int groups_per_block = blockDim.x / width;
    return {static_cast<std::int64_t>(blockIdx.x) * groups_per_block + threadIdx.x / width,
            static_cast<std::int64_t>(gridDim.x) * groups_per_block,
            static_cast<int>(threadIdx.x % width), width,
            static_cast<int>(threadIdx.x % kWarp) / width};
  }
}

// Adds one entry to a thread's running (max, sum).
__device__ inline void max_sum_add(MaxSum& acc, float v) {
  if (v > acc.max) {
    acc.sum = acc.sum * expf(acc.max - v) + 1.0f;  // rescale what was summed under the old max
    acc.max = v;
  } else if (v != -INFINITY) {  // -inf adds 0; skipping it avoids exp(-inf - -inf) = NaN
    acc.sum += expf(v - acc.max);
  }
}

// The (max, sum) of row[0, cols) computed by the group g of which this thread is a member: a
// group of lanes (max first, then the sum) or a whole block (online per thread, then an exact
// block maximum and one rescale a thread). An idle group passes cols = 0. `scratch` holds 32
// floats of shared memory (used by blocks only).
template <bool kBlockPerRow>
__device__ inline MaxSum row_max_sum(const float* row, std::int64_t cols, const RowGroup& g,
                                     SharedArray<float> scratch) {
  if constexpr (kBlockPerRow) {
    MaxSum acc{-INFINITY, 0.0f};
    for (std::int64_t c = g.rank; c < cols; c += g.width) max_sum_add(acc, row[c]);
    const float m = block_max(acc.max, scratch);
    // A thread that saw only -inf (or nothing) holds sum 0 (NaN if it saw a NaN): keep it as it
    // is rather than scale it by exp(-inf - m), which is NaN when m is -inf too.
    const float scaled = acc.max == -INFINITY ? acc.sum : acc.sum * expf(acc.max - m);
    return {m, block_sum(scaled, scratch)};
  } else {
    (void)scratch;
    float m = -INFINITY;
    for (std::int64_t c = g.rank; c < cols; c += g.width) m = fmaxf(m, row[c]);
    m = group_max(m, g.width);
    // exp(x - m): 0 for -inf entries; NaN for NaN entries and for a row that is -inf everywhere.
    float s = 0.0f;
    for (std::int64_t c = g.rank; c < cols; c += g.width) s += expf(row[c] - m);
    return {m, group_sum(s, g.width)};
  }
}

// Sum over the group g (of lanes or a block), float or double. `scratch` holds 32 values of
// shared memory (used by blocks only).
template <bool kBlockPerRow, typename T>
__device__ inline T row_group_sum(T v, const RowGroup& g, SharedArray<T> scratch) {
  if constexpr (kBlockPerRow) {
    (void)g;
    return block_sum(v, scratch);
  } else {
    (void)scratch;
    return group_sum(v, g.width);
  }
}

// Launch shape for a row kernel: blocks of kThreads holding kThreads / width groups of `width`
// lanes (one row each) for short rows, one block of kRowBlockThreads per row for long rows. Grids
// are capped; the kernels loop over rows with a stride.
struct RowLaunch {
  int blocks;
  int threads;
  int width;  // lanes per row (short rows)
  bool block_per_row;
};

inline RowLaunch row_launch(std::int64_t rows, std::int64_t cols) {
  if (cols <= kGroupRowLimit) {
    const int width = row_group_width(cols);
    return {blocks_for(rows * width), kThreads, width, false};
  }
  return {blocks_for(rows, 1), kRowBlockThreads, kRowBlockThreads, true};
}

}  // namespace dlfs::kernels::cuda_detail
