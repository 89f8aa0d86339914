#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/im2col.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// One thread per (channel, image, output pixel), grid-stride, ow fastest; each thread copies
// its kh*kw taps down one column. For a fixed tap, neighbouring threads write neighbouring
// columns (coalesced) and read pixels `stride_w` apart.
__global__ void im2col_kernel(const float* x, float* col, ConvGeometry g) {
  const ConvWindow w = g.window;
  const std::int64_t plane = g.out_h * g.out_w, columns = g.batch * plane;
  const std::int64_t total = g.channels * columns;
  DLFS_GRID_STRIDE_LOOP(index, total) {
    const std::int64_t ow = index % g.out_w;
    const std::int64_t oh = (index / g.out_w) % g.out_h;
    const std::int64_t n = (index / plane) % g.batch;
    const std::int64_t c = index / columns;
    const float* image = x + (n * g.channels + c) * g.height * g.width;
    float* out = col + c * w.kernel_h * w.kernel_w * columns + n * plane + oh * g.out_w + ow;
    const std::int64_t h0 = oh * w.stride_h - w.pad_h, v0 = ow * w.stride_w - w.pad_w;
    for (std::int64_t i = 0; i < w.kernel_h; ++i) {
      const std::int64_t h = h0 + i * w.dilation_h;
      const bool row_inside = h >= 0 && h < g.height;
      for (std::int64_t j = 0; j < w.kernel_w; ++j) {
        const std::int64_t v = v0 + j * w.dilation_w;
        *out = (row_inside && v >= 0 && v < g.width) ? image[h * g.width + v] : 0.0f;
        out += columns;
      }
    }
  }
}

// One thread per input pixel (image, channel, h, w), grid-stride, w fastest. The thread gathers
// every column entry im2col copied from its pixel, tap by tap in (i, j) order, and writes the
// sum once: no atomics, a fixed summation order (the CPU kernel's), bitwise repeatable.
// Tap (i, j) saw this pixel from output (oh, ow) when h = oh*sh - ph + i*dh, i.e. when
// h + ph - i*dh is a non-negative multiple of sh below sh*OH (and likewise for w).
__global__ void col2im_kernel(const float* col, float* x, ConvGeometry g) {
  const ConvWindow w = g.window;
  const std::int64_t plane = g.out_h * g.out_w, columns = g.batch * plane;
  const std::int64_t total = g.batch * g.channels * g.height * g.width;
  DLFS_GRID_STRIDE_LOOP(index, total) {
    const std::int64_t v = index % g.width;
    const std::int64_t h = (index / g.width) % g.height;
    const std::int64_t c = (index / (g.width * g.height)) % g.channels;
    const std::int64_t n = index / (g.width * g.height * g.channels);
    const float* rows = col + c * w.kernel_h * w.kernel_w * columns + n * plane;
    float sum = 0.0f;
    for (std::int64_t i = 0; i < w.kernel_h; ++i) {
      const std::int64_t h_offset = h + w.pad_h - i * w.dilation_h;
      if (h_offset < 0 || h_offset % w.stride_h != 0) continue;
      const std::int64_t oh = h_offset / w.stride_h;
      if (oh >= g.out_h) continue;
      for (std::int64_t j = 0; j < w.kernel_w; ++j) {
        const std::int64_t v_offset = v + w.pad_w - j * w.dilation_w;
        if (v_offset < 0 || v_offset % w.stride_w != 0) continue;
        const std::int64_t ow = v_offset / w.stride_w;
        if (ow >= g.out_w) continue;
        sum += rows[(i * w.kernel_w + j) * columns + oh * g.out_w + ow];
      }
    }
    x[index] = sum;
  }
}
}  // namespace

void im2col(const float* x, float* col, const ConvGeometry& g, CudaStream stream) {
  const std::int64_t total = g.channels * g.col_cols();
  if (total == 0) return;
  DLFS_LAUNCH(blocks_for(total), kThreads, 0, stream, im2col_kernel)(x, col, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

void col2im(const float* col, float* x, const ConvGeometry& g, CudaStream stream) {
  const std::int64_t total = g.batch * g.channels * g.height * g.width;
  if (total == 0) return;
  DLFS_LAUNCH(blocks_for(total), kThreads, 0, stream, col2im_kernel)(col, x, g);
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
