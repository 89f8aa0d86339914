#include "dlfs/kernels/avg_pool.hpp"
#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/cuda/pooling.cuh"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Grid-stride loop, one thread per output element: it sums its window's real pixels in
// row-major order (the CPU's order) and divides by the full window area.
__global__ void avg_pool_forward_kernel(const float* x, float* y, Pool2dGeometry g) {
  const PoolWindow w = g.window;
  const float area = static_cast<float>(w.kernel_h * w.kernel_w);
  DLFS_GRID_STRIDE_LOOP(o, g.output_numel()) {
    const std::int64_t ow = o % g.out_w, oh = (o / g.out_w) % g.out_h, p = o / (g.out_w * g.out_h);
    const float* plane = x + p * g.in_h * g.in_w;
    const std::int64_t h0 = oh * w.stride_h - w.pad_h, w0 = ow * w.stride_w - w.pad_w;
    const std::int64_t h_end = min(h0 + w.kernel_h, g.in_h), w_end = min(w0 + w.kernel_w, g.in_w);
    float sum = 0.0f;
    for (std::int64_t h = max(h0, std::int64_t{0}); h < h_end; ++h)
      for (std::int64_t c = max(w0, std::int64_t{0}); c < w_end; ++c) sum += plane[h * g.in_w + c];
    y[o] = sum / area;
  }
}

// Grid-stride loop, one thread per input pixel: it gathers dy from every output whose window
// covers it, in ascending output order, and divides by the window area. No atomics.
__global__ void avg_pool_backward_kernel(const float* dy, float* dx, Pool2dGeometry g) {
  const PoolWindow w = g.window;
  const float area = static_cast<float>(w.kernel_h * w.kernel_w);
  DLFS_GRID_STRIDE_LOOP(i, g.input_numel()) {
    const std::int64_t in_plane = g.in_h * g.in_w;
    const std::int64_t p = i / in_plane, at = i % in_plane;
    const CoveringRange rows =
        covering_outputs(at / g.in_w, w.kernel_h, w.stride_h, w.pad_h, g.out_h);
    const CoveringRange cols =
        covering_outputs(at % g.in_w, w.kernel_w, w.stride_w, w.pad_w, g.out_w);
    const float* dyp = dy + p * g.out_h * g.out_w;
    float sum = 0.0f;
    for (std::int64_t oh = rows.begin; oh < rows.end; ++oh)
      for (std::int64_t ow = cols.begin; ow < cols.end; ++ow) sum += dyp[oh * g.out_w + ow];
    dx[i] = sum / area;
  }
}
}  // namespace

void avg_pool_forward(const float* x, float* y, const Pool2dGeometry& g, CudaStream stream) {
  const std::int64_t n = g.output_numel();
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, avg_pool_forward_kernel)(x, y, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

void avg_pool_backward(const float* dy, float* dx, const Pool2dGeometry& g, CudaStream stream) {
  const std::int64_t n = g.input_numel();
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, avg_pool_backward_kernel)(dy, dx, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
