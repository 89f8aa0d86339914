#pragma once
// im2col lowers a convolution to one matrix multiply; col2im is its adjoint (the transpose of the
// lowering), which takes the columns' gradient back to the image.
//
// Column layout: col is a [C*kh*kw, N*OH*OW] matrix. Row (c, i, j) (c outermost) holds, for
// every output pixel of every image (n, oh, ow) (n outermost), the input pixel that kernel tap
// (i, j) of channel c sees there, or 0 in the padding. The row order is the flattening of an
// OIHW weight [O, C, kh, kw] into [O, C*kh*kw], and putting the whole batch in the columns makes
// each pass of a convolution ONE GEMM over the batch:
//   forward          Y'[O, N*OH*OW]   = W[O, C*kh*kw] * col
//   weight gradient  dW[O, C*kh*kw]   = dY'[O, N*OH*OW] * col^T      (K = N*OH*OW: large, fast)
//   data gradient    dcol             = W^T * dY',  then dx = col2im(dcol)
// where Y' is the output with batch and channel swapped ([O, N, OH*OW]; see swap_axes.hpp).
// The per-image layout [N][C*kh*kw][OH*OW] would give NCHW directly but needs N GEMMs per pass
// (and N accumulating GEMMs for dW); the swap costs two passes over the output instead, which
// is kh*kw times smaller than the columns. docs/convolution.md has the details.
#include <cstdint>
#include <string>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

// The sliding window of a 2-D convolution (or pooling).
struct ConvWindow {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
};

// "kernel 3x3 stride 2 padding 1" (one number where height and width agree; dilation if not 1).
std::string describe(const ConvWindow& window);

// Every size a lowering kernel needs: the input [batch, channels, height, width], the window and
// the output size it gives.
struct ConvGeometry {
  std::int64_t batch = 0, channels = 0, height = 0, width = 0;
  ConvWindow window;
  std::int64_t out_h = 0, out_w = 0;

  std::int64_t col_rows() const { return channels * window.kernel_h * window.kernel_w; }
  std::int64_t col_cols() const { return batch * out_h * out_w; }
};

// Validates the window and computes the output size, OH = (H + 2 ph - dh (kh - 1) - 1) / sh + 1.
// Throws dlfs::Error naming `op` when the window is invalid or does not fit, e.g.
// "Convolution: kernel 5x5 with padding 0 does not fit input 3x3".
ConvGeometry conv_geometry(const char* op, std::int64_t batch, std::int64_t channels,
                           std::int64_t height, std::int64_t width, const ConvWindow& window);
// The same for an NCHW shape.
ConvGeometry conv_geometry(const char* op, const Shape& input, const ConvWindow& window);

namespace cpu {
// x: [N, C, H, W]; col: [C*kh*kw, N*OH*OW], every element written.
template <typename T>
void im2col(const T* x, T* col, const ConvGeometry& g);
// col: [C*kh*kw, N*OH*OW]; x: [N, C, H, W], every element written (pixels no window covers
// get 0). Each pixel sums its contributions in tap order (i, j), like the CUDA kernel.
template <typename T>
void col2im(const T* col, T* x, const ConvGeometry& g);
}  // namespace cpu

namespace cuda {
void im2col(const float* x, float* col, const ConvGeometry& g, CudaStream stream);
void col2im(const float* col, float* x, const ConvGeometry& g, CudaStream stream);
}  // namespace cuda

// [N, C, H, W] -> [C*kh*kw, N*OH*OW].
Tensor im2col(const Tensor& x, const ConvWindow& window);
// [C*kh*kw, N*OH*OW] -> image_shape ([N, C, H, W]), summing overlapping windows.
Tensor col2im(const Tensor& col, const Shape& image_shape, const ConvWindow& window);

}  // namespace dlfs::kernels
