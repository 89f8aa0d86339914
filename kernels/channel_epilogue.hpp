#pragma once
// An inference epilogue: the per-channel, element-wise layers that follow a layer in a graph (a
// BatchNorm with its running statistics, then a ReLU), applied by that layer to its own output
// as it makes it (Layer::forward_fused) rather than in passes of their own over the
// whole batch. Its arithmetic is the layers' own, in their order: the same bits as running them
// one after the other.
#include <cstdint>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

struct ChannelEpilogue {
  // BatchNorm in inference, y = (x - mean) * (1 / sqrt(var + eps)) * gamma + beta per channel,
  // when `mean` is defined.
  Tensor gamma, beta, mean, var;
  double eps = 0.0;
  // Then max(y, 0).
  bool relu = false;

  bool normalizes() const { return mean.defined(); }
  bool empty() const { return !normalizes() && !relu; }
};

namespace cpu {
// y [batch, channels, spatial] = the epilogue applied to x of that shape; y may be x (in place).
// With `bias` (per channel: the convolution's), to x + bias, in the same pass and with the bits
// of a bias_add pass before it.
template <typename T>
void apply_channel_epilogue(const T* x, T* y, std::int64_t batch, std::int64_t channels,
                            std::int64_t spatial, const ChannelEpilogue& epilogue,
                            const T* bias = nullptr);
}  // namespace cpu

// True when the epilogue can follow an output of `channels` channels of `dtype` on the CPU: its
// per-channel tensors (if it normalises) hold that many values of that dtype, on the CPU.
bool epilogue_fits(const ChannelEpilogue& epilogue, std::int64_t channels, DType dtype);

// The epilogue applied to x [N, C, ...] (CPU, float32 or float64), out of place.
Tensor apply_channel_epilogue(const Tensor& x, const ChannelEpilogue& epilogue);
// The same in place.
void apply_channel_epilogue_(Tensor& y, const ChannelEpilogue& epilogue);

}  // namespace dlfs::kernels
