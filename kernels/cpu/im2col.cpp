#include <algorithm>

#include "kernels/im2col.hpp"

namespace dlfs::kernels::cpu {

namespace {
constexpr std::int64_t kParallelElements = 1 << 16;
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
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            T* out = row + oh * g.out_w;
            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
            if (h < 0 || h >= g.height) {
              std::fill(out, out + g.out_w, T(0));
              continue;
            }
            const T* in = image + h * g.width;
            for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
              const std::int64_t v = ow * w.stride_w - w.pad_w + j * w.dilation_w;
              out[ow] = (v >= 0 && v < g.width) ? in[v] : T(0);
            }
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
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
            if (h < 0 || h >= g.height) continue;
            const T* in = row + oh * g.out_w;
            T* out = image + h * g.width;
            for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
              const std::int64_t v = ow * w.stride_w - w.pad_w + j * w.dilation_w;
              if (v >= 0 && v < g.width) out[v] += in[ow];
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
