#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/lrn.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one thread per element: it sums the squares of its channel window (stride
// `spatial` apart, so neighbouring threads read neighbouring addresses) in ascending order.
__global__ void lrn_forward_kernel(const float* x, float* y, float* scale, LrnShape s,
                                   float alpha_over_size, float beta, float k, int before,
                                   int after) {
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t q = i % s.spatial, c = (i / s.spatial) % s.channels;
    const float* xn = x + (i / (s.spatial * s.channels)) * s.channels * s.spatial;
    const std::int64_t first = max(c - before, std::int64_t{0});
    const std::int64_t last = min(c + after, s.channels - 1);
    float sum = 0.0f;
    for (std::int64_t j = first; j <= last; ++j) {
      const float v = xn[j * s.spatial + q];
      sum += v * v;
    }
    const float sc = k + alpha_over_size * sum;
    scale[i] = sc;
    y[i] = x[i] * powf(sc, -beta);
  }
}

// Grid-stride loop, one thread per element: it gathers dy * y / scale over the channels whose
// windows contain it, in ascending order (no atomics).
__global__ void lrn_backward_kernel(const float* dy, const float* x, const float* y,
                                    const float* scale, float* dx, LrnShape s, float factor,
                                    float beta, int before, int after) {
  DLFS_GRID_STRIDE_LOOP(i, s.numel()) {
    const std::int64_t q = i % s.spatial, c = (i / s.spatial) % s.channels;
    const std::int64_t base = (i / (s.spatial * s.channels)) * s.channels * s.spatial;
    const std::int64_t first = max(c - before, std::int64_t{0});
    const std::int64_t last = min(c + after, s.channels - 1);
    float sum = 0.0f;
    for (std::int64_t j = first; j <= last; ++j) {
      const std::int64_t at = base + j * s.spatial + q;
      sum += dy[at] * y[at] / scale[at];
    }
    dx[i] = dy[i] * powf(scale[i], -beta) - factor * x[i] * sum;
  }
}
}  // namespace

void lrn_forward(const float* x, float* y, float* scale, const LrnShape& s, const LrnParams& p,
                 CudaStream stream) {
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, lrn_forward_kernel)
  (x, y, scale, s, static_cast<float>(p.alpha / p.size), static_cast<float>(p.beta),
   static_cast<float>(p.k), p.size / 2, (p.size - 1) / 2);
  DLFS_CUDA_CHECK_LAUNCH();
}

void lrn_backward(const float* dy, const float* x, const float* y, const float* scale, float* dx,
                  const LrnShape& s, const LrnParams& p, CudaStream stream) {
  if (s.numel() == 0) return;
  DLFS_LAUNCH(blocks_for(s.numel()), kThreads, 0, stream, lrn_backward_kernel)
  (dy, x, y, scale, dx, s, static_cast<float>(2 * p.alpha * p.beta / p.size),
   static_cast<float>(p.beta), (p.size - 1) / 2, p.size / 2);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
