#include "kernels/batch_norm.hpp"
#include "kernels/cuda/launch.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Walks the elements j = threadIdx.x, threadIdx.x + blockDim.x, ... of channel c, where element
// j is (n, k) = (j / spatial, j % spatial), without a 64-bit division per step.
struct ChannelCursor {
  std::int64_t n, k, step_n, step_k;
  __device__ ChannelCursor(const BatchNormShape& s)
      : n(threadIdx.x / s.spatial),
        k(threadIdx.x % s.spatial),
        step_n(blockDim.x / s.spatial),
        step_k(blockDim.x % s.spatial) {}
  __device__ bool valid(const BatchNormShape& s) const { return n < s.batch; }
  __device__ std::int64_t offset(const BatchNormShape& s, std::int64_t c) const {
    return (n * s.channels + c) * s.spatial + k;
  }
  __device__ void next(const BatchNormShape& s) {
    n += step_n;
    k += step_k;
    if (k >= s.spatial) {
      k -= s.spatial;
      n += 1;
    }
  }
};

// Threads per block for the one-block-per-channel reductions: enough to keep the SMs busy on
// large channels (64 x 56 x 56 values), one warp where a channel has only a few values.
int reduction_threads(std::int64_t per_channel) {
  if (per_channel <= 4 * kWarp) return kWarp;
  if (per_channel <= 64 * kThreads) return kThreads;
  return 1024;
}

// One block per channel: block_sum of x, then (two-pass, stable) block_sum of (x - mean)^2, both
// in a fixed order, so the statistics are deterministic. Thread 0 writes the saved statistics and
// updates the running ones; block 0 also counts the batch.
__global__ void batch_norm_stats_kernel(const float* x, float* running_mean, float* running_var,
                                        float* save_mean, float* save_invstd,
                                        std::int64_t* batches_tracked, BatchNormShape s,
                                        float momentum, float eps) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const std::int64_t c = blockIdx.x;
  const float count = static_cast<float>(s.per_channel());
  float sum = 0.0f;
  for (ChannelCursor at(s); at.valid(s); at.next(s)) sum += x[at.offset(s, c)];
  const float mean = block_sum(sum, scratch) / count;
  float squares = 0.0f;
  for (ChannelCursor at(s); at.valid(s); at.next(s)) {
    const float d = x[at.offset(s, c)] - mean;
    squares += d * d;
  }
  squares = block_sum(squares, scratch);
  if (threadIdx.x == 0) {
    const float var = squares / count;
    save_mean[c] = mean;
    save_invstd[c] = 1.0f / sqrtf(var + eps);
    const float unbiased = squares / (count - 1.0f);
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * unbiased;
    if (batches_tracked && c == 0) *batches_tracked += 1;
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

// One block per channel: block_sum of dy and of dy * x_hat in a fixed order (deterministic).
__global__ void batch_norm_backward_reduce_kernel(const float* dy, const float* x,
                                                  const float* save_mean, const float* save_invstd,
                                                  float* dgamma, float* dbeta, BatchNormShape s) {
  DLFS_SHARED_ARRAY(float, scratch, 32);
  const std::int64_t c = blockIdx.x;
  const float mean = save_mean[c], invstd = save_invstd[c];
  float sum_dy = 0.0f, sum_dy_xhat = 0.0f;
  for (ChannelCursor at(s); at.valid(s); at.next(s)) {
    const std::int64_t i = at.offset(s, c);
    sum_dy += dy[i];
    sum_dy_xhat += dy[i] * ((x[i] - mean) * invstd);
  }
  sum_dy = block_sum(sum_dy, scratch);
  sum_dy_xhat = block_sum(sum_dy_xhat, scratch);
  if (threadIdx.x == 0) {
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_xhat;
  }
}

// Grid-stride loop, one thread per element:
// dx = gamma * invstd * (dy - dbeta / M - x_hat * dgamma / M).
__global__ void batch_norm_backward_input_kernel(const float* dy, const float* x,
                                                 const float* gamma, const float* save_mean,
                                                 const float* save_invstd, const float* dgamma,
                                                 const float* dbeta, float* dx, BatchNormShape s) {
  const float count = static_cast<float>(s.per_channel());
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t c = (i / s.spatial) % s.channels;
    const float invstd = save_invstd[c];
    const float xhat = (x[i] - save_mean[c]) * invstd;
    dx[i] = gamma[c] * invstd * (dy[i] - dbeta[c] / count - xhat * (dgamma[c] / count));
  }
}
}  // namespace

void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, float* y,
                              float* running_mean, float* running_var, float* save_mean,
                              float* save_invstd, std::int64_t* batches_tracked,
                              const BatchNormShape& s, double momentum, double eps,
                              CudaStream stream) {
  if (s.channels == 0) return;
  DLFS_LAUNCH(static_cast<unsigned>(s.channels), reduction_threads(s.per_channel()), 0, stream,
              batch_norm_stats_kernel)
  (x, running_mean, running_var, save_mean, save_invstd, batches_tracked, s,
   static_cast<float>(momentum), static_cast<float>(eps));
  DLFS_CUDA_CHECK_LAUNCH();
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
                         float* dbeta, const BatchNormShape& s, CudaStream stream) {
  if (s.channels == 0) return;
  DLFS_LAUNCH(static_cast<unsigned>(s.channels), reduction_threads(s.per_channel()), 0, stream,
              batch_norm_backward_reduce_kernel)
  (dy, x, save_mean, save_invstd, dgamma, dbeta, s);
  DLFS_CUDA_CHECK_LAUNCH();
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, batch_norm_backward_input_kernel)
  (dy, x, gamma, save_mean, save_invstd, dgamma, dbeta, dx, s);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
