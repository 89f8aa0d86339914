#pragma once
// Geometry shared by the 2-D pooling ops (max and average) over NCHW tensors.
//
// Output sizes follow PyTorch's default (floor mode): out = (in + 2 * pad - kernel) / stride + 1.
// Padding is at most half the window, as in PyTorch, so every window holds at least one real
// input pixel: max pooling never returns the padding's -inf and always has a valid argmax.
#include <cstdint>
#include <string>

#include "dlfs/runtime/shape.hpp"

namespace dlfs::kernels {

// The window of a 2-D pooling: its size, step and zero-or-more pixels of padding on each side.
struct PoolWindow {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;

  // A square window.
  static PoolWindow square(int kernel, int stride, int padding = 0) {
    return {kernel, kernel, stride, stride, padding, padding};
  }
  // "k3x3 s2x2 p1x1"
  std::string str() const;
};

// A window applied to an [N, C, H, W] input: everything a pooling kernel needs, passed by value
// (the constexpr accessors are callable from CUDA kernels).
struct Pool2dGeometry {
  std::int64_t batch = 0, channels = 0;
  std::int64_t in_h = 0, in_w = 0;
  std::int64_t out_h = 0, out_w = 0;
  PoolWindow window;

  constexpr std::int64_t planes() const { return batch * channels; }
  constexpr std::int64_t input_numel() const { return planes() * in_h * in_w; }
  constexpr std::int64_t output_numel() const { return planes() * out_h * out_w; }
  Shape output_shape() const { return Shape{batch, channels, out_h, out_w}; }
};

// Throws dlfs::Error, naming `op` and the window, unless kernel and stride are positive and the
// padding is between 0 and half the window.
void check_pool_window(const char* op, const PoolWindow& window);

// Validates the window against an [N, C, H, W] input and computes the output size. Throws
// dlfs::Error, naming `op`, the input shape and the window, when the input is not 4-D, the window
// is degenerate, the padding exceeds half the window, or the window does not fit the input.
Pool2dGeometry pool2d_geometry(const char* op, const Shape& input, const PoolWindow& window);

}  // namespace dlfs::kernels
