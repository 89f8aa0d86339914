#include "dlfs/layers/convolution.hpp"

#include <algorithm>

#include "dlfs/kernels/bias.hpp"

namespace dlfs {

namespace {

std::string pair_str(std::int64_t h, std::int64_t w) {
  return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w);
}

kernels::ConvWindow square_window(std::int64_t kernel_h, std::int64_t kernel_w, std::int64_t stride,
                                  std::int64_t padding) {
  kernels::ConvWindow w;
  w.kernel_h = kernel_h;
  w.kernel_w = kernel_w;
  w.stride_h = w.stride_w = stride;
  w.pad_h = w.pad_w = padding;
  return w;
}

}  // namespace

Convolution::Convolution(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_h,
                         std::int64_t kernel_w, std::int64_t stride, std::int64_t padding,
                         bool bias)
    : Convolution(in_channels, out_channels, square_window(kernel_h, kernel_w, stride, padding),
                  bias) {}

Convolution::Convolution(std::int64_t in_channels, std::int64_t out_channels,
                         const kernels::ConvWindow& window, bool bias)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      window_(window),
      has_bias_(bias),
      algorithm_(kernels::conv_algorithm_from_environment()) {
  if (in_channels < 1 || out_channels < 1)
    throw Error("Convolution: channel counts must be positive, got " + std::to_string(in_channels) +
                "->" + std::to_string(out_channels));
  // Validates the window (sizes >= 1, padding >= 0) on the smallest input it fits.
  kernels::conv_geometry("Convolution", 1, in_channels,
                         std::max<std::int64_t>(1, window.dilation_h * (window.kernel_h - 1) + 1),
                         std::max<std::int64_t>(1, window.dilation_w * (window.kernel_w - 1) + 1),
                         window);
  weight_ = {
      "weight", Tensor::zeros({out_channels, in_channels, window.kernel_h, window.kernel_w}), {}};
  if (has_bias_) bias_ = {"bias", Tensor::zeros({out_channels}), {}};
}

std::string Convolution::describe() const {
  const kernels::ConvWindow& w = window_;
  std::string s = std::to_string(in_channels_) + "->" + std::to_string(out_channels_) + ", k" +
                  pair_str(w.kernel_h, w.kernel_w) + " s" + pair_str(w.stride_h, w.stride_w) +
                  " p" + pair_str(w.pad_h, w.pad_w);
  if (w.dilation_h != 1 || w.dilation_w != 1) s += " d" + pair_str(w.dilation_h, w.dilation_w);
  if (!has_bias_) s += ", no bias";
  return s;
}

std::vector<Parameter*> Convolution::parameters() {
  if (has_bias_) return {&weight_, &bias_};
  return {&weight_};
}

kernels::ConvGeometry Convolution::geometry(const Tensor& x) const {
  if (x.ndim() != 4) throw Error("Convolution: expects an NCHW input [N, C, H, W], got " + x.str());
  if (x.dim(1) != in_channels_)
    throw Error("Convolution: input " + x.str() + " has " + std::to_string(x.dim(1)) +
                " channels, the layer expects " + std::to_string(in_channels_));
  return kernels::conv_geometry("Convolution", x.shape(), window_);
}

Shape Convolution::output_shape(const Shape& input) const {
  if (input.ndim() != 4)
    throw Error("Convolution: expects an NCHW input [N, C, H, W], got shape " + input.str());
  if (input[1] != in_channels_)
    throw Error("Convolution: input shape " + input.str() + " has " + std::to_string(input[1]) +
                " channels, the layer expects " + std::to_string(in_channels_));
  const kernels::ConvGeometry g = kernels::conv_geometry("Convolution", input, window_);
  return {g.batch, out_channels_, g.out_h, g.out_w};
}

std::optional<ConvAlgorithm> Convolution::last_algorithm() const {
  if (!last_path_) return std::nullopt;
  switch (*last_path_) {
    case kernels::Conv2dPath::Cudnn:
      return ConvAlgorithm::Cudnn;
    case kernels::Conv2dPath::Onednn:
      return ConvAlgorithm::Onednn;
    case kernels::Conv2dPath::OnednnWinograd:
      return ConvAlgorithm::Winograd;
    default:
      return ConvAlgorithm::Im2col;
  }
}

kernels::Conv2dPath Convolution::start_forward(const Tensor& x, kernels::ConvGeometry* g) {
  const Tensor& w = weight_.value;
  if (x.device() != w.device() || x.dtype() != w.dtype())
    throw Error("Convolution: input " + x.str() + " does not match weight " + w.str() +
                "; move the layer with to()");
  *g = geometry(x);
  saved_ = kernels::Conv2dSaved{};
  last_path_ = kernels::choose_conv2d_path(algorithm_, *g, out_channels_, x);
  return *last_path_;
}

Tensor Convolution::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "Convolution");
  kernels::ConvGeometry g;
  const kernels::Conv2dPath path = start_forward(x, &g);
  return kernels::conv2d_forward(x, weight_.value, g, path, cache_,
                                 mode == Mode::Train ? &saved_ : nullptr,
                                 has_bias_ ? &bias_.value : nullptr);
}

Tensor Convolution::forward_fused(const std::vector<Tensor>& inputs,
                                  const kernels::ChannelEpilogue& epilogue,
                                  const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                                  Tensor* pool_argmax) {
  const Tensor& x = single_input(inputs, "Convolution");
  if (!epilogue.empty() &&
      (pool_argmax || !x.device().is_cpu() || x.dtype() != weight_.value.dtype()))
    return Tensor();
  // Where the BatchNorm does not fit, it runs on its own and says what does not match.
  if (!kernels::epilogue_fits(epilogue, out_channels_, x.dtype())) return Tensor();
  kernels::ConvGeometry g;
  const kernels::Conv2dPath path = start_forward(x, &g);
  *unpooled_shape = Shape{g.batch, out_channels_, g.out_h, g.out_w};
  // In training (pool_argmax given), start_forward has cleared saved_ and the kernel fills it.
  return kernels::conv2d_forward_fused(x, weight_.value, g, path, cache_,
                                       has_bias_ ? &bias_.value : nullptr,
                                       epilogue.empty() ? nullptr : &epilogue, max_pool,
                                       pool_argmax ? &saved_ : nullptr, pool_argmax);
}

std::vector<Tensor> Convolution::backward(const Tensor& grad_output) {
  if (!saved_.defined()) throw Error("Convolution::backward called without a Train-mode forward");
  const kernels::ConvGeometry& g = saved_.geometry;
  const Shape expected{g.batch, out_channels_, g.out_h, g.out_w};
  if (grad_output.shape() != expected || grad_output.dtype() != weight_.value.dtype() ||
      grad_output.device() != weight_.value.device())
    throw Error("Convolution::backward: gradient " + grad_output.str() + " does not match output " +
                expected.str() + " of " + weight_.value.str());
  kernels::Conv2dGradients grads =
      kernels::conv2d_backward(grad_output, weight_.value, saved_, cache_, input_gradient_needed());
  weight_.grad = grads.weight;
  if (has_bias_) bias_.grad = kernels::bias_grad(grad_output);
  // One backward per forward: free the saved activations now rather than at the next forward.
  saved_ = kernels::Conv2dSaved{};
  return {grads.input};
}

}  // namespace dlfs
