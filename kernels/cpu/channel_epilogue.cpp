#include "dlfs/kernels/channel_epilogue.hpp"

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/cpu/select.hpp"
#include "dlfs/kernels/relu.hpp"

namespace dlfs::kernels::cpu {

namespace {
// y = x + bias per channel, then the ReLU if `relu`: bias_add's and relu_forward's bits.
template <typename T>
void add_bias(const T* x, T* y, const T* bias, std::int64_t batch, std::int64_t channels,
              std::int64_t spatial, bool relu) {
#pragma omp parallel for collapse(2) if (batch * channels * spatial > 65536)
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t c = 0; c < channels; ++c) {
      const T* in = x + (n * channels + c) * spatial;
      T* out = y + (n * channels + c) * spatial;
      const T b = bias[c];
      if (relu) {
        for (std::int64_t s = 0; s < spatial; ++s) {
          const T v = in[s] + b;
          out[s] = select(v > T(0), v, T(0));
        }
      } else {
        for (std::int64_t s = 0; s < spatial; ++s) out[s] = in[s] + b;
      }
    }
}
}  // namespace

template <typename T>
void apply_channel_epilogue(const T* x, T* y, std::int64_t batch, std::int64_t channels,
                            std::int64_t spatial, const ChannelEpilogue& e, const T* bias) {
  const BatchNormShape shape{batch, channels, spatial};
  if (e.normalizes()) {
    // The BatchNorm layer's own kernel, told to add the bias first and to clamp each value as it
    // writes it.
    batch_norm_inference_forward(x, e.gamma.data<T>(), e.beta.data<T>(), e.mean.data<T>(),
                                 e.var.data<T>(), y, shape, e.eps, e.relu, bias);
  } else if (bias) {
    add_bias(x, y, bias, batch, channels, spatial, e.relu);
  } else if (e.relu) {
    relu_forward(x, y, nullptr, shape.numel());
  } else if (x != y) {
    for (std::int64_t i = 0; i < shape.numel(); ++i) y[i] = x[i];
  }
}

template void apply_channel_epilogue<float>(const float*, float*, std::int64_t, std::int64_t,
                                            std::int64_t, const ChannelEpilogue&, const float*);
template void apply_channel_epilogue<double>(const double*, double*, std::int64_t, std::int64_t,
                                             std::int64_t, const ChannelEpilogue&, const double*);

}  // namespace dlfs::kernels::cpu
