#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/cuda/pooling.cuh"
#include "dlfs/kernels/max_pool.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one thread per output element: it scans its window (real pixels only, as
// padding is -inf) in row-major order with the CPU's comparison, so values and argmax match.
__global__ void max_pool_forward_kernel(const float* x, float* y, std::int32_t* argmax,
                                        Pool2dGeometry g) {
  const PoolWindow w = g.window;
  DLFS_GRID_STRIDE_LOOP(o, g.output_numel()) {
    const std::int64_t ow = o % g.out_w, oh = (o / g.out_w) % g.out_h, p = o / (g.out_w * g.out_h);
    const float* plane = x + p * g.in_h * g.in_w;
    const std::int64_t h0 = oh * w.stride_h - w.pad_h, w0 = ow * w.stride_w - w.pad_w;
    const std::int64_t h_end = min(h0 + w.kernel_h, g.in_h), w_end = min(w0 + w.kernel_w, g.in_w);
    std::int64_t best_at = -1;
    float best = -INFINITY;
    for (std::int64_t h = max(h0, std::int64_t{0}); h < h_end; ++h)
      for (std::int64_t c = max(w0, std::int64_t{0}); c < w_end; ++c) {
        const float v = plane[h * g.in_w + c];
        if (best_at < 0 || v > best || isnan(v)) {
          best = v;
          best_at = h * g.in_w + c;
        }
      }
    y[o] = best;
    argmax[o] = static_cast<std::int32_t>(best_at);
  }
}

// Grid-stride loop, one thread per input pixel: it gathers dy from the outputs whose windows
// cover it and chose it as their maximum, in ascending output order. No atomics, so the result
// is deterministic and equal to the CPU's ordered scatter.
__global__ void max_pool_backward_kernel(const float* dy, const std::int32_t* argmax, float* dx,
                                         Pool2dGeometry g) {
  const PoolWindow w = g.window;
  DLFS_GRID_STRIDE_LOOP(i, g.input_numel()) {
    const std::int64_t in_plane = g.in_h * g.in_w;
    const std::int64_t p = i / in_plane, at = i % in_plane;
    const std::int64_t h = at / g.in_w, c = at % g.in_w;
    const CoveringRange rows = covering_outputs(h, w.kernel_h, w.stride_h, w.pad_h, g.out_h);
    const CoveringRange cols = covering_outputs(c, w.kernel_w, w.stride_w, w.pad_w, g.out_w);
    const std::int64_t plane_start = p * g.out_h * g.out_w;
    float sum = 0.0f;
    for (std::int64_t oh = rows.begin; oh < rows.end; ++oh)
      for (std::int64_t ow = cols.begin; ow < cols.end; ++ow) {
        const std::int64_t o = plane_start + oh * g.out_w + ow;
        if (argmax[o] == at) sum += dy[o];
      }
    dx[i] = sum;
  }
}
}  // namespace

void max_pool_forward(const float* x, float* y, std::int32_t* argmax, const Pool2dGeometry& g,
                      CudaStream stream) {
  const std::int64_t n = g.output_numel();
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, max_pool_forward_kernel)(x, y, argmax, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

void max_pool_backward(const float* dy, const std::int32_t* argmax, float* dx,
                       const Pool2dGeometry& g, CudaStream stream) {
  const std::int64_t n = g.input_numel();
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, max_pool_backward_kernel)(dy, argmax, dx, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
