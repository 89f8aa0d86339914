#include <algorithm>

#include "dlfs/kernels/im2col.hpp"

namespace dlfs::kernels::cpu {

namespace {
constexpr std::int64_t kParallelElements = 1 << 16;

// The output columns ow in [begin, end) whose input column v = ow * stride - pad + tap_offset
// lies inside [0, width): the rest of a row is padding. Worked out once per kernel tap, so the
// loops below copy (or add) whole runs without a bounds test per element.
struct ColumnRun {
  std::int64_t begin, end, first_input;  // first_input: v at ow = begin
};

ColumnRun valid_columns(std::int64_t out_w, std::int64_t width, std::int64_t stride,
                        std::int64_t pad, std::int64_t tap_offset) {
  // v >= 0  <=>  ow >= ceil((pad - tap_offset) / stride); v < width  <=>  ow * stride <
  // width + pad - tap_offset.
  const std::int64_t low = pad - tap_offset;
  std::int64_t begin = low <= 0 ? 0 : (low + stride - 1) / stride;
  const std::int64_t limit = width + pad - tap_offset;  // ow * stride < limit
  std::int64_t end = limit <= 0 ? 0 : (limit + stride - 1) / stride;
  begin = std::min(begin, out_w);
  end = std::clamp(end, begin, out_w);
  return {begin, end, begin * stride - low};
}
}  // namespace

template <typename T>
void im2col(const T* x, T* col, const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  const std::int64_t plane = g.out_h * g.out_w, columns = g.col_cols();
  // One (channel, image) pair per iteration: it writes its own column range of its own rows.
#pragma omp parallel for collapse(2) if (g.col_rows() * columns > kParallelElements)
  for (std::int64_t c = 0; c < g.channels; ++c) {
    for (std::int64_t n = 0; n < g.batch; ++n) {
      const T* image = x + (n * g.channels + c) * g.height * g.width;
      for (std::int64_t i = 0; i < w.kernel_h; ++i) {
        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
          T* row = col + ((c * w.kernel_h + i) * w.kernel_w + j) * columns + n * plane;
          const ColumnRun run =
              valid_columns(g.out_w, g.width, w.stride_w, w.pad_w, j * w.dilation_w);
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            T* out = row + oh * g.out_w;
            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
            if (h < 0 || h >= g.height) {
              std::fill(out, out + g.out_w, T(0));
              continue;
            }
            const T* in = image + h * g.width + run.first_input;
            std::fill(out, out + run.begin, T(0));
            T* dst = out + run.begin;
            const std::int64_t count = run.end - run.begin;
            if (w.stride_w == 1) {
#pragma omp simd
              for (std::int64_t k = 0; k < count; ++k) dst[k] = in[k];
            } else {
              for (std::int64_t k = 0; k < count; ++k) dst[k] = in[k * w.stride_w];
            }
            std::fill(out + run.end, out + g.out_w, T(0));
          }
        }
      }
    }
  }
}

template <typename T>
void col2im(const T* col, T* x, const ConvGeometry& g) {
  const ConvWindow& w = g.window;
  const std::int64_t plane = g.out_h * g.out_w, columns = g.col_cols();
  // One (image, channel) plane per iteration, so no two iterations write one pixel. Taps are
  // visited in (i, j) order, so every pixel receives its contributions in that order, the same
  // order in which the CUDA kernel gathers them: both devices compute the same sums.
#pragma omp parallel for collapse(2) if (g.col_rows() * columns > kParallelElements)
  for (std::int64_t n = 0; n < g.batch; ++n) {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      T* image = x + (n * g.channels + c) * g.height * g.width;
      std::fill(image, image + g.height * g.width, T(0));
      for (std::int64_t i = 0; i < w.kernel_h; ++i) {
        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
          const T* row = col + ((c * w.kernel_h + i) * w.kernel_w + j) * columns + n * plane;
          const ColumnRun run =
              valid_columns(g.out_w, g.width, w.stride_w, w.pad_w, j * w.dilation_w);
          const std::int64_t count = run.end - run.begin;
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
            if (h < 0 || h >= g.height) continue;
            const T* src = row + oh * g.out_w + run.begin;
            T* out = image + h * g.width + run.first_input;
            if (w.stride_w == 1) {
#pragma omp simd
              for (std::int64_t k = 0; k < count; ++k) out[k] += src[k];
            } else {
              for (std::int64_t k = 0; k < count; ++k) out[k * w.stride_w] += src[k];
            }
          }
        }
      }
    }
  }
}

template void im2col<float>(const float*, float*, const ConvGeometry&);
template void im2col<double>(const double*, double*, const ConvGeometry&);
template void col2im<float>(const float*, float*, const ConvGeometry&);
template void col2im<double>(const double*, double*, const ConvGeometry&);

}  // namespace dlfs::kernels::cpu
