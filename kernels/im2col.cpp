#include "dlfs/kernels/im2col.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {

// "3" when both agree, "3x5" (height x width) otherwise.
std::string pair_str(std::int64_t h, std::int64_t w) {
  return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w);
}

void require(bool ok, const char* op, const std::string& message) {
  if (!ok) throw Error(std::string(op) + ": " + message);
}

}  // namespace

std::string describe(const ConvWindow& w) {
  std::string s = "kernel " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w) +
                  " stride " + pair_str(w.stride_h, w.stride_w) + " padding " +
                  pair_str(w.pad_h, w.pad_w);
  if (w.dilation_h != 1 || w.dilation_w != 1)
    s += " dilation " + pair_str(w.dilation_h, w.dilation_w);
  return s;
}

ConvGeometry conv_geometry(const char* op, std::int64_t batch, std::int64_t channels,
                           std::int64_t height, std::int64_t width, const ConvWindow& w) {
  require(w.kernel_h >= 1 && w.kernel_w >= 1, op,
          "kernel " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w) +
              " must be at least 1x1");
  require(w.stride_h >= 1 && w.stride_w >= 1, op,
          "stride " + pair_str(w.stride_h, w.stride_w) + " must be at least 1");
  require(w.pad_h >= 0 && w.pad_w >= 0, op,
          "padding " + pair_str(w.pad_h, w.pad_w) + " must not be negative");
  require(w.dilation_h >= 1 && w.dilation_w >= 1, op,
          "dilation " + pair_str(w.dilation_h, w.dilation_w) + " must be at least 1");
  require(batch >= 0 && channels >= 0 && height >= 0 && width >= 0, op, "negative input size");
  // The window spans dilation * (kernel - 1) + 1 pixels and must fit the padded input.
  const std::int64_t span_h = w.dilation_h * (w.kernel_h - 1) + 1;
  const std::int64_t span_w = w.dilation_w * (w.kernel_w - 1) + 1;
  if (height + 2 * w.pad_h < span_h || width + 2 * w.pad_w < span_w) {
    std::string kernel = "kernel " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w);
    if (w.dilation_h != 1 || w.dilation_w != 1)
      kernel += " (dilation " + pair_str(w.dilation_h, w.dilation_w) + ")";
    throw Error(std::string(op) + ": " + kernel + " with padding " + pair_str(w.pad_h, w.pad_w) +
                " does not fit input " + std::to_string(height) + "x" + std::to_string(width));
  }
  ConvGeometry g;
  g.batch = batch;
  g.channels = channels;
  g.height = height;
  g.width = width;
  g.window = w;
  g.out_h = (height + 2 * w.pad_h - span_h) / w.stride_h + 1;
  g.out_w = (width + 2 * w.pad_w - span_w) / w.stride_w + 1;
  return g;
}

ConvGeometry conv_geometry(const char* op, const Shape& input, const ConvWindow& window) {
  if (input.ndim() != 4)
    throw Error(std::string(op) + ": expects an NCHW input [N, C, H, W], got shape " + input.str());
  return conv_geometry(op, input[0], input[1], input[2], input[3], window);
}

Tensor im2col(const Tensor& x, const ConvWindow& window) {
  check_floating("im2col", x);
  const ConvGeometry g = conv_geometry("im2col", x.shape(), window);
  Tensor col = Tensor::empty({g.col_rows(), g.col_cols()}, x.dtype(), x.device());
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("im2col", cuda::im2col(x.data<float>(), col.data<float>(), g, stream_of(x)));
    return col;
  }
  DLFS_DISPATCH_FLOATING(x.dtype(), "im2col",
                         [&] { cpu::im2col(x.data<scalar_t>(), col.data<scalar_t>(), g); });
  return col;
}

Tensor col2im(const Tensor& col, const Shape& image_shape, const ConvWindow& window) {
  check_floating("col2im", col);
  const ConvGeometry g = conv_geometry("col2im", image_shape, window);
  if (col.ndim() != 2 || col.dim(0) != g.col_rows() || col.dim(1) != g.col_cols())
    throw Error("col2im: columns " + col.str() + " do not match image " + image_shape.str() +
                " with " + describe(window) + " (expected [" + std::to_string(g.col_rows()) + ", " +
                std::to_string(g.col_cols()) + "])");
  Tensor x = Tensor::empty(image_shape, col.dtype(), col.device());
  if (col.device().is_cuda()) {
    DLFS_CUDA_CALL("col2im", cuda::col2im(col.data<float>(), x.data<float>(), g, stream_of(col)));
    return x;
  }
  DLFS_DISPATCH_FLOATING(col.dtype(), "col2im",
                         [&] { cpu::col2im(col.data<scalar_t>(), x.data<scalar_t>(), g); });
  return x;
}

}  // namespace dlfs::kernels
