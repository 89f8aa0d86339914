#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/cuda/channel_reduce.cuh"

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

// Stage 1, split.splits blocks per channel (kernels/channel_split.hpp): block c * splits + s
// sums its run of channel c's N*S values, its threads striding over the run and reducing in
// shared memory in a fixed order (no atomics). With one split it writes dbias[c]; otherwise
// partials[c * splits + s].
__global__ void bias_grad_kernel(const float* dy, float* dbias, float* partials, std::int64_t batch,
                                 std::int64_t channels, std::int64_t spatial, ChannelSplit split) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const ChannelPiece piece = channel_piece(split, batch * spatial);
  float sum = 0.0f;
  for (ChannelCursor at(piece, spatial); at.valid(); at.next(spatial))
    sum += dy[at.offset(channels, spatial, piece.channel)];
  sum = block_sum(sum, scratch);
  if (threadIdx.x != 0) return;
  if (split.splits == 1)
    dbias[piece.channel] = sum;
  else
    partials[blockIdx.x] = sum;
}

// Stage 2, grid-stride, one thread per channel: adds its splits' partial sums in order, in
// double, and rounds once.
__global__ void bias_grad_combine_kernel(const float* partials, float* dbias, std::int64_t channels,
                                         std::int64_t splits) {
  DLFS_GRID_STRIDE_LOOP(c, channels) {
    double sum = 0.0;
    for (std::int64_t s = 0; s < splits; ++s) sum += partials[c * splits + s];
    dbias[c] = static_cast<float>(sum);
  }
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
               std::int64_t spatial, CudaStream stream, float* partials) {
  if (channels == 0) return;
  const ChannelSplit split =
      partials ? channel_split(channels, batch * spatial) : ChannelSplit{1, batch * spatial};
  DLFS_LAUNCH(static_cast<unsigned>(channels * split.splits), channel_reduce_threads(split), 0,
              stream, bias_grad_kernel)
  (dy, dbias, partials, batch, channels, spatial, split);
  DLFS_CUDA_CHECK_LAUNCH();
  if (split.splits == 1) return;
  DLFS_LAUNCH(blocks_for(channels), kThreads, 0, stream, bias_grad_combine_kernel)
  (partials, dbias, channels, split.splits);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
