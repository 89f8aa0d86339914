#include "dlfs/kernels/channel_epilogue.hpp"

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/relu.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void apply_channel_epilogue(const T* x, T* y, std::int64_t batch, std::int64_t channels,
                            std::int64_t spatial, const ChannelEpilogue& e) {
  const BatchNormShape shape{batch, channels, spatial};
  if (e.normalizes()) {
    // The BatchNorm layer's own kernel, told to clamp each value as it writes it.
    batch_norm_inference_forward(x, e.gamma.data<T>(), e.beta.data<T>(), e.mean.data<T>(),
                                 e.var.data<T>(), y, shape, e.eps, e.relu);
  } else if (e.relu) {
    relu_forward(x, y, nullptr, shape.numel());
  } else if (x != y) {
    for (std::int64_t i = 0; i < shape.numel(); ++i) y[i] = x[i];
  }
}

template void apply_channel_epilogue<float>(const float*, float*, std::int64_t, std::int64_t,
                                            std::int64_t, const ChannelEpilogue&);
template void apply_channel_epilogue<double>(const double*, double*, std::int64_t, std::int64_t,
                                             std::int64_t, const ChannelEpilogue&);

}  // namespace dlfs::kernels::cpu
