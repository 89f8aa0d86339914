#include "dlfs/kernels/pooling.hpp"

#include <limits>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::kernels {

std::string PoolWindow::str() const {
  return "k" + std::to_string(kernel_h) + "x" + std::to_string(kernel_w) + " s" +
         std::to_string(stride_h) + "x" + std::to_string(stride_w) + " p" + std::to_string(pad_h) +
         "x" + std::to_string(pad_w);
}

void check_pool_window(const char* op, const PoolWindow& w) {
  const std::string where = std::string(op) + ": window " + w.str();
  if (w.kernel_h < 1 || w.kernel_w < 1 || w.stride_h < 1 || w.stride_w < 1)
    throw Error(where + ": kernel and stride must be positive");
  if (w.pad_h < 0 || w.pad_w < 0) throw Error(where + ": padding must not be negative");
  // As in PyTorch; it guarantees that every window holds at least one real pixel.
  if (2 * w.pad_h > w.kernel_h || 2 * w.pad_w > w.kernel_w)
    throw Error(where + ": padding must be at most half the window");
}

Pool2dGeometry pool2d_geometry(const char* op, const Shape& input, const PoolWindow& window) {
  check_pool_window(op, window);
  const std::string where =
      std::string(op) + ": window " + window.str() + " on input " + input.str();
  if (input.ndim() != 4) throw Error(where + ": expects an [N, C, H, W] input");
  const PoolWindow& w = window;
  Pool2dGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.in_h = input[2];
  g.in_w = input[3];
  g.window = window;
  if (g.in_h < 1 || g.in_w < 1) throw Error(where + ": the input has no pixels");
  const std::int64_t padded_h = g.in_h + 2 * w.pad_h, padded_w = g.in_w + 2 * w.pad_w;
  if (padded_h < w.kernel_h || padded_w < w.kernel_w)
    throw Error(where + ": the window does not fit the (padded) input");
  // Argmax indices are int32 offsets into one input plane.
  if (g.in_h * g.in_w > std::numeric_limits<std::int32_t>::max())
    throw Error(where + ": an input plane has more than 2^31 - 1 pixels");
  g.out_h = (padded_h - w.kernel_h) / w.stride_h + 1;
  g.out_w = (padded_w - w.kernel_w) / w.stride_w + 1;
  return g;
}

}  // namespace dlfs::kernels
