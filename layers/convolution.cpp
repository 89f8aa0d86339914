#include "layers/convolution.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include "kernels/bias.hpp"
#include "kernels/cpu/gemm_threads.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/gemm.hpp"
#include "kernels/swap_axes.hpp"
#if DLFS_HAVE_CUDNN
#include "layers/cuda/cudnn_convolution.hpp"
#endif

namespace dlfs {

// ---- Algorithm selection ---------------------------------------------------------------------

namespace {

std::mutex default_mutex;
std::optional<ConvAlgorithm> default_algorithm;  // unset until first asked or set

std::string pair_str(std::int64_t h, std::int64_t w) {
  return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w);
}

}  // namespace

ConvAlgorithm parse_conv_algorithm(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "im2col") return ConvAlgorithm::Im2col;
  if (lower == "cudnn") return ConvAlgorithm::Cudnn;
  throw InputError("unknown convolution algorithm \"" + text +
                   "\"; expected \"im2col\" or \"cudnn\"");
}

const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  return algorithm == ConvAlgorithm::Cudnn ? "cudnn" : "im2col";
}

ConvAlgorithm conv_algorithm_from_environment() {
  const char* text = std::getenv("DLFS_CONV");
  if (text == nullptr || *text == '\0') return ConvAlgorithm::Im2col;
  try {
    return parse_conv_algorithm(text);
  } catch (const InputError& e) {
    throw InputError(std::string("environment variable DLFS_CONV: ") + e.what());
  }
}

ConvAlgorithm default_conv_algorithm() {
  std::lock_guard<std::mutex> lock(default_mutex);
  if (!default_algorithm) default_algorithm = conv_algorithm_from_environment();
  return *default_algorithm;
}

void set_default_conv_algorithm(ConvAlgorithm algorithm) {
  std::lock_guard<std::mutex> lock(default_mutex);
  default_algorithm = algorithm;
}

// ---- The CPU path: one GEMM per image -----------------------------------------------------------
//
// On the CPU, for pointwise and small convolutions (per_image_on_cpu below), the lowered
// convolution runs one GEMM per image on the batched columns (im2col.hpp):
// image n's columns are the slice col[:, n*P, (n+1)*P) of the [C*kh*kw, N*P] matrix (P = OH*OW),
// read in place with leading dimension N*P. Per image, the products come out in NCHW order
//   forward          Y[n]  = W * col_n                    [O, P]
//   weight gradient  dW   += dY[n] * col_n^T              summed over n = 0, 1, ... in order
//   data gradient    dcol_n = W^T * dY[n]                 written into the batched dcol
// so the two batch/channel swaps of the one-GEMM-per-batch form (an extra pass over Y and one
// over dY) disappear. Each image's operands are small enough to stay in cache, which the
// batch-wide GEMM's are not (LeNet's conv1 forward: 0.2 ms per batch as 100 GEMMs, 0.8 ms as
// one, measured single-threaded). A pointwise convolution (1x1, stride 1, no padding) needs no
// im2col at all: col_n is image n itself ([C, P]), and dx[n] = W^T dY[n] needs no col2im.
// GEMMs too small to thread (gemm_threads.hpp) run in parallel over images, one thread each;
// larger ones run image after image, each on every thread. Either way every output element is
// computed by one GEMM in a fixed order, and dW sums images in order: results do not depend on
// the thread count.

namespace {

bool is_pointwise(const kernels::ConvGeometry& g) {
  const kernels::ConvWindow& w = g.window;
  return w.kernel_h == 1 && w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 &&
         w.pad_h == 0 && w.pad_w == 0;
}

// The per-image path pays off for pointwise convolutions (no im2col, no col2im) and for small
// images (LeNet: each GEMM is under 0.3 M multiply-adds, so the 100 of a batch run in parallel,
// cache-resident). For larger ones (VGG, ResNet 3x3 layers) one threaded GEMM per batch was
// faster here (49 vs 43 GFLOP/s fwd+bwd on the VGG layer of bench/cpu; docs/performance.md).
constexpr std::int64_t kPerImageMaxMacs = std::int64_t{1} << 20;

bool per_image_on_cpu(const kernels::ConvGeometry& g, std::int64_t out_channels) {
  return is_pointwise(g) || out_channels * g.col_rows() * g.out_h * g.out_w < kPerImageMaxMacs;
}

// Where image n's columns start in `col` (the batched im2col matrix, or the input itself for a
// pointwise convolution), and their leading dimension.
struct ImageColumns {
  bool pointwise;
  std::int64_t rows, pixels, batch;  // C*kh*kw, P = OH*OW, N
  std::int64_t offset(std::int64_t n) const { return pointwise ? n * rows * pixels : n * pixels; }
  std::int64_t stride() const { return pointwise ? pixels : batch * pixels; }
};

ImageColumns image_columns(const kernels::ConvGeometry& g) {
  return {is_pointwise(g), g.col_rows(), g.out_h * g.out_w, g.batch};
}

// Calls gemm_for(n) for every image: in parallel over images when each GEMM (m x n x k) is too
// small for OpenBLAS to thread, else one image after another.
template <typename F>
void for_each_image(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k,
                    F&& gemm_for) {
  const bool across_images = batch > 1 && kernels::cpu::gemm_wants_one_thread(m, n, k);
#pragma omp parallel for if (across_images)
  for (std::int64_t image = 0; image < batch; ++image) gemm_for(image);
}

// y[N, O, OH, OW] from the columns (see ImageColumns) and weight [O, C*kh*kw].
Tensor cpu_forward(const Tensor& col, const Tensor& weight, const kernels::ConvGeometry& g,
                   std::int64_t out_channels) {
  const ImageColumns cols = image_columns(g);
  Tensor y = Tensor::empty({g.batch, out_channels, g.out_h, g.out_w}, col.dtype(), col.device());
  DLFS_DISPATCH_FLOATING(col.dtype(), "Convolution", [&] {
    const scalar_t* w = weight.data<scalar_t>();
    const scalar_t* c = col.data<scalar_t>();
    scalar_t* out = y.data<scalar_t>();
    const std::int64_t o = out_channels, k = cols.rows, p = cols.pixels;
    for_each_image(g.batch, o, p, k, [&](std::int64_t n) {
      kernels::cpu::gemm<scalar_t>(false, false, o, p, k, 1, w, k, c + cols.offset(n),
                                   cols.stride(), 0, out + n * o * p, p);
    });
  });
  return y;
}

// dW (into weight_grad [O, C*kh*kw]) and dcol (the batched [C*kh*kw, N*P] matrix, or dx itself
// [N, C, H, W] for a pointwise convolution) from dy [N, O, OH, OW].
void cpu_backward(const Tensor& dy, const Tensor& col, const Tensor& weight,
                  const kernels::ConvGeometry& g, std::int64_t out_channels, Tensor& weight_grad,
                  Tensor& dcol) {
  const ImageColumns cols = image_columns(g);
  DLFS_DISPATCH_FLOATING(dy.dtype(), "Convolution", [&] {
    const scalar_t* w = weight.data<scalar_t>();
    const scalar_t* c = col.data<scalar_t>();
    const scalar_t* d = dy.data<scalar_t>();
    scalar_t* dw = weight_grad.data<scalar_t>();
    scalar_t* dc = dcol.data<scalar_t>();
    const std::int64_t o = out_channels, k = cols.rows, p = cols.pixels;
    // dW accumulates image by image (beta 1 after the first), in order.
    for (std::int64_t n = 0; n < g.batch; ++n)
      kernels::cpu::gemm<scalar_t>(false, true, o, k, p, 1, d + n * o * p, p, c + cols.offset(n),
                                   cols.stride(), n == 0 ? 0 : 1, dw, k);
    for_each_image(g.batch, k, p, o, [&](std::int64_t n) {
      kernels::cpu::gemm<scalar_t>(true, false, k, p, o, 1, w, k, d + n * o * p, p, 0,
                                   dc + cols.offset(n), cols.stride());
    });
  });
}

}  // namespace

// ---- The layer -------------------------------------------------------------------------------

namespace {
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
    : in_channels_(in_channels), out_channels_(out_channels), window_(window), has_bias_(bias) {
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

bool Convolution::cudnn_usable(const Tensor& x) const {
#if DLFS_HAVE_CUDNN
  return algorithm() == ConvAlgorithm::Cudnn && x.device().is_cuda() && x.dtype() == DType::Float32;
#else
  (void)x;
  return false;
#endif
}

Tensor Convolution::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "Convolution");
  const Tensor& w = weight_.value;
  if (x.device() != w.device() || x.dtype() != w.dtype())
    throw Error("Convolution: input " + x.str() + " does not match weight " + w.str() +
                "; move the layer with to()");
  const kernels::ConvGeometry g = geometry(x);
  saved_columns_ = Tensor();
  saved_input_ = Tensor();
  input_shape_ = x.shape();

  Tensor y;
  if (cudnn_usable(x)) {
    y = forward_cudnn(x, g, mode);
    last_algorithm_ = ConvAlgorithm::Cudnn;
  } else {
    y = forward_im2col(x, g, mode);
    last_algorithm_ = ConvAlgorithm::Im2col;
  }
  if (has_bias_) kernels::bias_add_(y, bias_.value);
  return y;
}

Tensor Convolution::forward_im2col(const Tensor& x, const kernels::ConvGeometry& g, Mode mode) {
  if (x.device().is_cpu() && per_image_on_cpu(g, out_channels_)) {
    Tensor col = is_pointwise(g) ? x : kernels::im2col(x, window_);
    Tensor y = cpu_forward(col, weight_.value, g, out_channels_);
    if (mode == Mode::Train) saved_columns_ = col;
    return y;
  }
  // Y'[O, N*OH*OW] = W[O, C*kh*kw] * col[C*kh*kw, N*OH*OW]: one GEMM for the whole batch, then
  // batch and channel axes swap to give NCHW.
  Tensor col = kernels::im2col(x, window_);
  Tensor w = weight_.value.reshape({out_channels_, g.col_rows()});
  Tensor y_swapped = Tensor::empty({out_channels_, g.col_cols()}, x.dtype(), x.device());
  kernels::matmul(w, false, col, false, y_swapped);
  Tensor y =
      kernels::swap_leading_axes(y_swapped.reshape({out_channels_, g.batch, g.out_h * g.out_w}));
  if (mode == Mode::Train) saved_columns_ = col;
  return y.reshape({g.batch, out_channels_, g.out_h, g.out_w});
}

Tensor Convolution::forward_cudnn(const Tensor& x, const kernels::ConvGeometry& g, Mode mode) {
#if DLFS_HAVE_CUDNN
  if (!cudnn_plan_ || !cudnn::plan_matches(*cudnn_plan_, g, out_channels_, x.device()))
    cudnn_plan_ = cudnn::make_convolution_plan(g, out_channels_, x.device());
  Tensor y = cudnn::convolution_forward(*cudnn_plan_, x, weight_.value);
  if (mode == Mode::Train) saved_input_ = x;
  return y;
#else
  (void)x;
  (void)g;
  (void)mode;
  throw Error("Convolution: this build of dlfs has no cuDNN");
#endif
}

std::vector<Tensor> Convolution::backward(const Tensor& grad_output) {
  if (!saved_columns_.defined() && !saved_input_.defined())
    throw Error("Convolution::backward called without a Train-mode forward");
  const Shape expected = output_shape(input_shape_);
  if (grad_output.shape() != expected || grad_output.dtype() != weight_.value.dtype() ||
      grad_output.device() != weight_.value.device())
    throw Error("Convolution::backward: gradient " + grad_output.str() + " does not match output " +
                expected.str() + " of " + weight_.value.str());
  std::vector<Tensor> grads =
      saved_input_.defined() ? backward_cudnn(grad_output) : backward_im2col(grad_output);
  if (has_bias_) bias_.grad = kernels::bias_grad(grad_output);
  // One backward per forward: free the saved activations now rather than at the next forward.
  saved_columns_ = Tensor();
  saved_input_ = Tensor();
  return grads;
}

std::vector<Tensor> Convolution::backward_im2col(const Tensor& dy) {
  const kernels::ConvGeometry g = kernels::conv_geometry("Convolution", input_shape_, window_);
  if (dy.device().is_cpu() && per_image_on_cpu(g, out_channels_)) {
    weight_.grad = Tensor::empty(weight_.value.shape(), dy.dtype(), dy.device());
    if (is_pointwise(g)) {
      Tensor dx = Tensor::empty(input_shape_, dy.dtype(), dy.device());
      cpu_backward(dy, saved_columns_, weight_.value, g, out_channels_, weight_.grad, dx);
      return {dx};
    }
    Tensor dcol = Tensor::empty({g.col_rows(), g.col_cols()}, dy.dtype(), dy.device());
    cpu_backward(dy, saved_columns_, weight_.value, g, out_channels_, weight_.grad, dcol);
    return {kernels::col2im(dcol, input_shape_, window_)};
  }
  // dY'[O, N*OH*OW]: the gradient with batch and channel swapped, as the forward GEMM made Y'.
  Tensor dy_swapped =
      kernels::swap_leading_axes(dy.reshape({g.batch, out_channels_, g.out_h * g.out_w}))
          .reshape({out_channels_, g.col_cols()});
  // dW[O, C*kh*kw] = dY' * col^T: one GEMM summing over every output pixel of the batch.
  weight_.grad = Tensor::empty(weight_.value.shape(), dy.dtype(), dy.device());
  Tensor dw = weight_.grad.reshape({out_channels_, g.col_rows()});
  kernels::matmul(dy_swapped, false, saved_columns_, true, dw);
  // dcol = W^T * dY', folded back onto the image by col2im.
  Tensor w = weight_.value.reshape({out_channels_, g.col_rows()});
  Tensor dcol = Tensor::empty({g.col_rows(), g.col_cols()}, dy.dtype(), dy.device());
  kernels::matmul(w, true, dy_swapped, false, dcol);
  return {kernels::col2im(dcol, input_shape_, window_)};
}

std::vector<Tensor> Convolution::backward_cudnn(const Tensor& dy) {
#if DLFS_HAVE_CUDNN
  weight_.grad = cudnn::convolution_backward_filter(*cudnn_plan_, saved_input_, dy);
  return {cudnn::convolution_backward_data(*cudnn_plan_, dy, weight_.value)};
#else
  (void)dy;
  throw Error("Convolution: this build of dlfs has no cuDNN");
#endif
}

}  // namespace dlfs
