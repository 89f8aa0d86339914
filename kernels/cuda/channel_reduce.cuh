#pragma once
// Device side of the split per-channel reductions (kernels/channel_split.hpp): block
// b = c * splits + s of a first-stage grid owns values [s * per_split, (s + 1) * per_split) of
// channel c, value j of a channel being (n, k) = (j / spatial, j % spatial), at
// (n * channels + c) * spatial + k.
#include <cstdint>

#include "dlfs/kernels/channel_split.hpp"
#include "dlfs/kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda_detail {

// What a first-stage block owns: its channel, its split and the split's values [begin, end).
struct ChannelPiece {
  std::int64_t channel, split, begin, end;
};

__device__ inline ChannelPiece channel_piece(const ChannelSplit& sp, std::int64_t per_channel) {
  const std::int64_t c = blockIdx.x / sp.splits, s = blockIdx.x % sp.splits;
  const std::int64_t begin = s * sp.per_split;
  const std::int64_t end = begin + sp.per_split < per_channel ? begin + sp.per_split : per_channel;
  return {c, s, begin, end};
}

// Walks the values j = begin + threadIdx.x, j + blockDim.x, ... below end of a piece, keeping
// (n, k) without a 64-bit division per step.
struct ChannelCursor {
  std::int64_t j, end, n, k, step_n, step_k;

  __device__ ChannelCursor(const ChannelPiece& p, std::int64_t spatial)
      : j(p.begin + threadIdx.x),
        end(p.end),
        n(j / spatial),
        k(j % spatial),
        step_n(blockDim.x / spatial),
        step_k(blockDim.x % spatial) {}
  __device__ bool valid() const { return j < end; }
  __device__ std::int64_t offset(std::int64_t channels, std::int64_t spatial,
                                 std::int64_t c) const {
    return (n * channels + c) * spatial + k;
  }
  __device__ void next(std::int64_t spatial) {
    j += blockDim.x;
    n += step_n;
    k += step_k;
    if (k >= spatial) {
      k -= spatial;
      n += 1;
    }
  }
};

// Threads per first-stage block: a split channel gets kThreads a block (its blocks fill the GPU
// already); one block per channel gets enough threads to keep the SMs busy on large channels, one
// warp where a channel has only a few values.
inline int channel_reduce_threads(const ChannelSplit& split) {
  if (split.splits > 1) return kThreads;
  if (split.per_split <= 4 * kWarp) return kWarp;
  if (split.per_split <= 64 * kThreads) return kThreads;
  return 1024;
}

}  // namespace dlfs::kernels::cuda_detail
