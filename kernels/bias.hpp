#pragma once
// Bias over the channel axis of a [N, C, S] view (S = 1 for Affine outputs, H*W for
// convolutions): forward adds b[c] in place, backward sums dy over batch and space.
#include <cstdint>

#include "dlfs/kernels/channel_split.hpp"
#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
template <typename T>
void bias_add(T* y, const T* bias, std::int64_t batch, std::int64_t channels, std::int64_t spatial);
template <typename T>
void bias_grad(const T* dy, T* dbias, std::int64_t batch, std::int64_t channels,
               std::int64_t spatial);
}  // namespace cpu

namespace cuda {
void bias_add(float* y, const float* bias, std::int64_t batch, std::int64_t channels,
              std::int64_t spatial, CudaStream stream);
// partials: bias_grad_workspace_floats(...) floats of workspace, so that a channel's sum is
// split over several blocks (kernels/channel_split.hpp) and combined in a fixed order; null
// sums each channel in one block.
void bias_grad(const float* dy, float* dbias, std::int64_t batch, std::int64_t channels,
               std::int64_t spatial, CudaStream stream, float* partials);

constexpr std::int64_t bias_grad_workspace_floats(std::int64_t batch, std::int64_t channels,
                                                  std::int64_t spatial) {
  return channels * channel_split(channels, batch * spatial).splits;
}
}  // namespace cuda

// y ([N, C, ...]) += bias ([C]) broadcast over every axis but axis 1.
void bias_add_(Tensor& y, const Tensor& bias);
// [C] sums of dy ([N, C, ...]) over every axis but axis 1.
Tensor bias_grad(const Tensor& dy);

}  // namespace dlfs::kernels
