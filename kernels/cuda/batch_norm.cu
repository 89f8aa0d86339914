#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/cuda/channel_reduce.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// A run of n values summarised by a rounded mean m, sum(d) and sum(d^2) with d = x - m: its exact
// mean and M2 (the corrected two-pass formula), in double. M2 >= 0 mathematically; the clamp
// keeps a constant run's rounding from making it a hair negative.
struct RunStats {
  double mean, m2;
};
__device__ inline RunStats corrected_run(float mean, float deviations, float squares,
                                         std::int64_t count) {
  const double n = static_cast<double>(count), d = deviations;
  const double m2 = squares - d * d / n;
  return {mean + d / n, m2 > 0.0 ? m2 : 0.0};
}

// The end of the statistics of channel c from its mean and M2 = sum((x - mean)^2) over its
// `count` values: the saved mean and 1 / sqrt(var + eps), and the running statistics (PyTorch's
// update, unbiased variance), in double as on the CPU; channel 0 also counts the batch.
__device__ inline void write_channel_stats(std::int64_t c, double mean, double m2, double count,
                                           float* running_mean, float* running_var,
                                           float* save_mean, float* save_invstd,
                                           std::int64_t* batches_tracked, double momentum,
                                           double eps) {
  save_mean[c] = static_cast<float>(mean);
  save_invstd[c] = static_cast<float>(1.0 / sqrt(m2 / count + eps));
  running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mean);
  running_var[c] =
      static_cast<float>((1.0 - momentum) * running_var[c] + momentum * (m2 / (count - 1.0)));
  if (batches_tracked && c == 0) *batches_tracked += 1;
}

// Stage 1 of the statistics, split.splits blocks per channel (kernels/channel_split.hpp): block
// c * splits + s takes its run of channel c's values in two passes, as a stable variance needs:
// block_sum of x gives the run's mean m (in float), then block_sums of d = x - m and of d^2, all
// in a fixed order. Since m is rounded, the run's exact mean is m + sum(d) / n and its M2 is
// sum(d^2) - sum(d)^2 / n (the corrected two-pass formula); without that correction, merging runs
// whose means differ by about a float ulp of the mean costs 1e-5 of the variance. With one split,
// thread 0 writes the channel's statistics; otherwise it leaves the run's (m, sum(d), sum(d^2))
// in partials[3 * b, 3 * b + 3).
__global__ void batch_norm_stats_kernel(const float* x, float* running_mean, float* running_var,
                                        float* save_mean, float* save_invstd,
                                        std::int64_t* batches_tracked, float* partials,
                                        BatchNormShape s, ChannelSplit split, double momentum,
                                        double eps) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const ChannelPiece piece = channel_piece(split, s.per_channel());
  const std::int64_t c = piece.channel;
  const std::int64_t count = piece.end - piece.begin;
  float sum = 0.0f;
  for (ChannelCursor at(piece, s.spatial); at.valid(); at.next(s.spatial))
    sum += x[at.offset(s.channels, s.spatial, c)];
  const float mean = block_sum(sum, scratch) / static_cast<float>(count);
  float deviations = 0.0f, squares = 0.0f;
  for (ChannelCursor at(piece, s.spatial); at.valid(); at.next(s.spatial)) {
    const float d = x[at.offset(s.channels, s.spatial, c)] - mean;
    deviations += d;
    squares += d * d;
  }
  deviations = block_sum(deviations, scratch);
  squares = block_sum(squares, scratch);
  if (threadIdx.x != 0) return;
  if (split.splits == 1) {
    const RunStats run = corrected_run(mean, deviations, squares, count);
    write_channel_stats(c, run.mean, run.m2, static_cast<double>(count), running_mean, running_var,
                        save_mean, save_invstd, batches_tracked, momentum, eps);
  } else {
    partials[3 * blockIdx.x] = mean;
    partials[3 * blockIdx.x + 1] = deviations;
    partials[3 * blockIdx.x + 2] = squares;
  }
}

// Stage 2, grid-stride, one thread per channel: merges its runs' (count, mean, M2) in order with
// Chan et al.'s pairwise update, in double (mean += d * n_b / n, M2 += M2_b + d^2 * n_a * n_b / n
// with d the difference of the means: no cancellation between large sums), then writes the
// channel's statistics.
__global__ void batch_norm_stats_combine_kernel(const float* partials, float* running_mean,
                                                float* running_var, float* save_mean,
                                                float* save_invstd, std::int64_t* batches_tracked,
                                                BatchNormShape s, ChannelSplit split,
                                                double momentum, double eps) {
  const std::int64_t per_channel = s.per_channel();
  DLFS_GRID_STRIDE_LOOP(c, s.channels) {
    double count = 0.0, mean = 0.0, m2 = 0.0;
    for (std::int64_t k = 0; k < split.splits; ++k) {
      const std::int64_t begin = k * split.per_split;
      const std::int64_t end =
          begin + split.per_split < per_channel ? begin + split.per_split : per_channel;
      const float* p = partials + 3 * (c * split.splits + k);
      const RunStats run = corrected_run(p[0], p[1], p[2], end - begin);
      const double n_b = static_cast<double>(end - begin), total = count + n_b;
      const double delta = run.mean - mean;
      mean += delta * (n_b / total);
      m2 += run.m2 + delta * delta * (count * n_b / total);
      count = total;
    }
    write_channel_stats(c, mean, m2, count, running_mean, running_var, save_mean, save_invstd,
                        batches_tracked, momentum, eps);
  }
}

// Grid-stride loop, one thread per element: y = (x - mean) * invstd * gamma + beta.
__global__ void batch_norm_normalize_kernel(const float* x, const float* gamma, const float* beta,
                                            const float* mean, const float* invstd, float* y,
                                            BatchNormShape s) {
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t c = (i / s.spatial) % s.channels;
    y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
  }
}

// Grid-stride loop, one thread per element, with the running statistics.
__global__ void batch_norm_inference_kernel(const float* x, const float* gamma, const float* beta,
                                            const float* running_mean, const float* running_var,
                                            float* y, BatchNormShape s, float eps) {
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t c = (i / s.spatial) % s.channels;
    const float invstd = 1.0f / sqrtf(running_var[c] + eps);
    y[i] = (x[i] - running_mean[c]) * invstd * gamma[c] + beta[c];
  }
}

// Stage 1 of the backward sums, split.splits blocks per channel (kernels/channel_split.hpp):
// block c * splits + s adds dy and dy * x_hat over its run of channel c's values with block_sum,
// in a fixed order (no atomics). With one split, thread 0 writes dbeta[c] and dgamma[c];
// otherwise partials[2 * b] and partials[2 * b + 1].
__global__ void batch_norm_backward_reduce_kernel(const float* dy, const float* x,
                                                  const float* save_mean, const float* save_invstd,
                                                  float* dgamma, float* dbeta, float* partials,
                                                  BatchNormShape s, ChannelSplit split) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const ChannelPiece piece = channel_piece(split, s.per_channel());
  const std::int64_t c = piece.channel;
  const float mean = save_mean[c], invstd = save_invstd[c];
  float sum_dy = 0.0f, sum_dy_xhat = 0.0f;
  for (ChannelCursor at(piece, s.spatial); at.valid(); at.next(s.spatial)) {
    const std::int64_t i = at.offset(s.channels, s.spatial, c);
    sum_dy += dy[i];
    sum_dy_xhat += dy[i] * ((x[i] - mean) * invstd);
  }
  sum_dy = block_sum(sum_dy, scratch);
  sum_dy_xhat = block_sum(sum_dy_xhat, scratch);
  if (threadIdx.x != 0) return;
  if (split.splits == 1) {
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_xhat;
  } else {
    partials[2 * blockIdx.x] = sum_dy;
    partials[2 * blockIdx.x + 1] = sum_dy_xhat;
  }
}

// Stage 2, grid-stride, one thread per channel: adds its runs' partial sums in order, in double,
// and rounds once.
__global__ void batch_norm_backward_combine_kernel(const float* partials, float* dgamma,
                                                   float* dbeta, std::int64_t channels,
                                                   std::int64_t splits) {
  DLFS_GRID_STRIDE_LOOP(c, channels) {
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (std::int64_t k = 0; k < splits; ++k) {
      sum_dy += partials[2 * (c * splits + k)];
      sum_dy_xhat += partials[2 * (c * splits + k) + 1];
    }
    dbeta[c] = static_cast<float>(sum_dy);
    dgamma[c] = static_cast<float>(sum_dy_xhat);
  }
}

// Grid-stride loop, one thread per element:
// dx = gamma * invstd * (dy - dbeta / M - x_hat * dgamma / M).
__global__ void batch_norm_backward_input_kernel(const float* dy, const float* x,
                                                 const float* gamma, const float* save_mean,
                                                 const float* save_invstd, const float* dgamma,
                                                 const float* dbeta, float* dx, BatchNormShape s,
                                                 float count) {
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t c = (i / s.spatial) % s.channels;
    const float invstd = save_invstd[c];
    const float xhat = (x[i] - save_mean[c]) * invstd;
    dx[i] = gamma[c] * invstd * (dy[i] - dbeta[c] / count - xhat * (dgamma[c] / count));
  }
}
}  // namespace

namespace {
ChannelSplit split_for(const BatchNormShape& s, const float* partials) {
  return partials ? channel_split(s.channels, s.per_channel()) : ChannelSplit{1, s.per_channel()};
}
}  // namespace

void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, float* y,
                              float* running_mean, float* running_var, float* save_mean,
                              float* save_invstd, std::int64_t* batches_tracked,
                              const BatchNormShape& s, double momentum, double eps,
                              CudaStream stream, float* partials) {
  if (s.channels == 0) return;
  const ChannelSplit split = split_for(s, partials);
  DLFS_LAUNCH(static_cast<unsigned>(s.channels * split.splits), channel_reduce_threads(split), 0,
              stream, batch_norm_stats_kernel)
  (x, running_mean, running_var, save_mean, save_invstd, batches_tracked, partials, s, split,
   momentum, eps);
  DLFS_CUDA_CHECK_LAUNCH();
  if (split.splits > 1) {
    DLFS_LAUNCH(blocks_for(s.channels), kThreads, 0, stream, batch_norm_stats_combine_kernel)
    (partials, running_mean, running_var, save_mean, save_invstd, batches_tracked, s, split,
     momentum, eps);
    DLFS_CUDA_CHECK_LAUNCH();
  }
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, batch_norm_normalize_kernel)
  (x, gamma, beta, save_mean, save_invstd, y, s);
  DLFS_CUDA_CHECK_LAUNCH();
}

void batch_norm_inference_forward(const float* x, const float* gamma, const float* beta,
                                  const float* running_mean, const float* running_var, float* y,
                                  const BatchNormShape& s, double eps, CudaStream stream) {
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, batch_norm_inference_kernel)
  (x, gamma, beta, running_mean, running_var, y, s, static_cast<float>(eps));
  DLFS_CUDA_CHECK_LAUNCH();
}

void batch_norm_backward(const float* dy, const float* x, const float* gamma,
                         const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                         float* dbeta, const BatchNormShape& s, CudaStream stream,
                         float* partials) {
  if (s.channels == 0) return;
  const ChannelSplit split = split_for(s, partials);
  DLFS_LAUNCH(static_cast<unsigned>(s.channels * split.splits), channel_reduce_threads(split), 0,
              stream, batch_norm_backward_reduce_kernel)
  (dy, x, save_mean, save_invstd, dgamma, dbeta, partials, s, split);
  DLFS_CUDA_CHECK_LAUNCH();
  if (split.splits > 1) {
    DLFS_LAUNCH(blocks_for(s.channels), kThreads, 0, stream, batch_norm_backward_combine_kernel)
    (partials, dgamma, dbeta, s.channels, split.splits);
    DLFS_CUDA_CHECK_LAUNCH();
  }
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, batch_norm_backward_input_kernel)
  (dy, x, gamma, save_mean, save_invstd, dgamma, dbeta, dx, s, static_cast<float>(s.per_channel()));
  DLFS_CUDA_CHECK_LAUNCH();
}

void batch_norm_backward_input(const float* dy, const float* x, const float* gamma,
                               const float* save_mean, const float* save_invstd,
                               const float* dgamma, const float* dbeta, double count, float* dx,
                               const BatchNormShape& s, CudaStream stream) {
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, batch_norm_backward_input_kernel)
  (dy, x, gamma, save_mean, save_invstd, dgamma, dbeta, dx, s, static_cast<float>(count));
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
