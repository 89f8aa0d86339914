#include "layers/convolution.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include <omp.h>

#include "kernels/bias.hpp"
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

// ---- The CPU path: one GEMM per image, images in parallel --------------------------------
//
// The batched lowering (im2col.hpp, still the CUDA path) writes a [C*kh*kw, N*P] column matrix
// (P = OH*OW): 6-8 MB for LeNet, 58 MB for a ResNet 3x3 layer at batch 8. It goes to memory and
// comes back four times per step (im2col, forward GEMM, dW GEMM, and dcol then col2im), and the
// GEMM's [O, N*P] result needs a batch/channel swap to become NCHW (and dY one back). For
// layers whose output maps have at least kPerImageMinPixels pixels, and for small layers, the
// CPU path instead lowers ONE image at a time into a buffer that stays in cache:
//   forward          col_n = im2col(x[n]);  Y[n] = W * col_n             [O, P], NCHW directly
//   backward         col_n = im2col(x[n]) again (cheaper than keeping the batch's columns);
//                    dW_k += dY[n] * col_n^T  over the images n of chunk k, in order;
//                    dcol_n = W^T * dY[n];  dx[n] = col2im(dcol_n)
//                    dW = dW_0 + dW_1 + ...  (chunks in order)
// and it keeps x, not the columns, for backward. A pointwise convolution (1x1, stride 1, no
// padding) needs no im2col or col2im at all: col_n is x[n] itself and dcol_n is dx[n]. Images
// are cut into at most kImageChunks fixed chunks (bounds depend on the shapes only) that run in
// parallel, one thread each with single-threaded GEMMs: OpenBLAS threading one image's GEMM
// (K is only 64 in ResNet's first stage) paid more in barriers than it gained. A batch of one
// is one chunk, and its GEMMs run on every thread. The sums are in a fixed order either way:
// the result does not depend on the thread count. (docs/performance.md has the measurements.)

namespace {

constexpr std::int64_t kImageChunks = 16;

bool is_pointwise(const kernels::ConvGeometry& g) {
  const kernels::ConvWindow& w = g.window;
  return w.kernel_h == 1 && w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 && w.pad_h == 0 &&
         w.pad_w == 0;
}

constexpr std::int64_t kMaxPartialDwBytes = std::int64_t{64} << 20;

// Per image, a layer's GEMMs have only OH*OW columns: where that is tiny (the 3x3 maps at the
// end of the 28x28 VGGs) they run far below OpenBLAS's rate, and the batched GEMM with N*OH*OW
// columns wins despite its extra passes (vgg11-bn training 1110 -> 1560 images/s). From 7x7 up
// the two were within noise of each other (thresholds 32 and 64 A/B in `dlfs bench`), and per
// image needs less memory. Small layers (LeNet's) go per image whatever their size, as the
// batched columns cost more than their GEMMs there.
constexpr std::int64_t kPerImageMinPixels = 32;
constexpr std::int64_t kPerImageSmallMacs = std::int64_t{1} << 20;

bool per_image_on_cpu(const kernels::ConvGeometry& g, std::int64_t out_channels) {
  const std::int64_t pixels = g.out_h * g.out_w;
  return pixels >= kPerImageMinPixels || out_channels * g.col_rows() * pixels < kPerImageSmallMacs;
}

struct PerImagePlan {
  bool pointwise;
  std::int64_t o, k, p;              // out channels, C*kh*kw, OH*OW
  std::int64_t image_in, image_out;  // elements of one input image, of one output image
  std::int64_t chunks;
  kernels::ConvGeometry one_image;  // g with batch 1: im2col/col2im of a single image

  PerImagePlan(const kernels::ConvGeometry& g, std::int64_t out_channels, DType dtype)
      : pointwise(is_pointwise(g)),
        o(out_channels),
        k(g.col_rows()),
        p(g.out_h * g.out_w),
        image_in(g.channels * g.height * g.width),
        image_out(out_channels * g.out_h * g.out_w),
        one_image(g) {
    one_image.batch = 1;
    // Images in parallel, each thread running single-threaded GEMMs on its own images: no
    // GEMM pays for thread wake-ups and barriers, and each thread's columns stay in its share of
    // the cache. dW then needs one partial sum per chunk: fewer chunks where those would be large
    // (VGG at 224x224). The count depends on the shapes only, so results do not depend on the
    // thread count.
    const std::int64_t dw_bytes = o * k * static_cast<std::int64_t>(dtype_size(dtype));
    const std::int64_t by_memory = std::max<std::int64_t>(1, kMaxPartialDwBytes / dw_bytes);
    chunks = std::min({g.batch, kImageChunks, by_memory});
  }
  // One columns buffer per thread of the team (indexed by omp_get_thread_num(); whichever
  // threads the schedule gives the chunks to). A single chunk runs in a team of one: thread 0.
  std::int64_t column_slots() const { return chunks > 1 ? omp_get_max_threads() : 1; }
  std::int64_t first_image(std::int64_t chunk, std::int64_t batch) const {
    return batch * chunk / chunks;
  }
};

template <typename T>
void forward_images(const PerImagePlan& plan, std::int64_t batch, const T* w, const T* x, T* y,
                    T* columns) {
#pragma omp parallel for if (plan.chunks > 1)
  for (std::int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    for (std::int64_t n = plan.first_image(chunk, batch); n < plan.first_image(chunk + 1, batch);
         ++n) {
      const T* col = x + n * plan.image_in;
      if (!plan.pointwise) {
        T* buffer = columns + omp_get_thread_num() * plan.k * plan.p;
        kernels::cpu::im2col(col, buffer, plan.one_image);
        col = buffer;
      }
      kernels::cpu::gemm<T>(false, false, plan.o, plan.p, plan.k, 1, w, plan.k, col, plan.p, 0,
                            y + n * plan.image_out, plan.p);
    }
  }
}

template <typename T>
void backward_images(const PerImagePlan& plan, std::int64_t batch, const T* w, const T* x,
                     const T* dy, T* dx, T* dw, T* columns, T* partial_dw) {
#pragma omp parallel for if (plan.chunks > 1)
  for (std::int64_t chunk = 0; chunk < plan.chunks; ++chunk) {
    T* chunk_dw = plan.chunks > 1 ? partial_dw + chunk * plan.o * plan.k : dw;
    T* buffer = plan.pointwise ? nullptr : columns + omp_get_thread_num() * plan.k * plan.p;
    const std::int64_t first = plan.first_image(chunk, batch);
    for (std::int64_t n = first; n < plan.first_image(chunk + 1, batch); ++n) {
      const T* col = x + n * plan.image_in;
      if (!plan.pointwise) {
        kernels::cpu::im2col(col, buffer, plan.one_image);
        col = buffer;
      }
      const T* dyn = dy + n * plan.image_out;
      kernels::cpu::gemm<T>(false, true, plan.o, plan.k, plan.p, 1, dyn, plan.p, col, plan.p,
                            n == first ? 0 : 1, chunk_dw, plan.k);
      T* dcol = plan.pointwise ? dx + n * plan.image_in : buffer;
      kernels::cpu::gemm<T>(true, false, plan.k, plan.p, plan.o, 1, w, plan.k, dyn, plan.p, 0, dcol,
                            plan.p);
      if (!plan.pointwise) kernels::cpu::col2im(buffer, dx + n * plan.image_in, plan.one_image);
    }
  }
  if (plan.chunks > 1) {  // dW = the chunks' sums, added in chunk order
    const std::int64_t size = plan.o * plan.k;
#pragma omp simd
    for (std::int64_t i = 0; i < size; ++i) {
      T sum = partial_dw[i];
      for (std::int64_t chunk = 1; chunk < plan.chunks; ++chunk)
        sum += partial_dw[chunk * size + i];
      dw[i] = sum;
    }
  }
}

// y[N, O, OH, OW] from x[N, C, H, W] and weight [O, C*kh*kw].
Tensor cpu_forward_per_image(const Tensor& x, const Tensor& weight, const kernels::ConvGeometry& g,
                             std::int64_t out_channels) {
  const PerImagePlan plan(g, out_channels, x.dtype());
  Tensor y = Tensor::empty({g.batch, out_channels, g.out_h, g.out_w}, x.dtype(), x.device());
  Tensor columns;  // one image's columns per thread
  if (!plan.pointwise) columns = Tensor::empty({plan.column_slots(), plan.k * plan.p}, x.dtype());
  DLFS_DISPATCH_FLOATING(x.dtype(), "Convolution", [&] {
    forward_images<scalar_t>(plan, g.batch, weight.data<scalar_t>(), x.data<scalar_t>(),
                             y.data<scalar_t>(),
                             plan.pointwise ? nullptr : columns.data<scalar_t>());
  });
  return y;
}

// dx [N, C, H, W] returned, dW written into weight_grad [O, C*kh*kw], from dy [N, O, OH, OW] and
// the forward's input x.
Tensor cpu_backward_per_image(const Tensor& dy, const Tensor& x, const Tensor& weight,
                              const kernels::ConvGeometry& g, std::int64_t out_channels,
                              Tensor& weight_grad) {
  const PerImagePlan plan(g, out_channels, x.dtype());
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor columns;  // one image's columns (then their gradient) per thread
  if (!plan.pointwise) columns = Tensor::empty({plan.column_slots(), plan.k * plan.p}, x.dtype());
  Tensor partial_dw;  // one dW per chunk when there are several
  if (plan.chunks > 1) partial_dw = Tensor::empty({plan.chunks, plan.o * plan.k}, x.dtype());
  DLFS_DISPATCH_FLOATING(x.dtype(), "Convolution", [&] {
    backward_images<scalar_t>(plan, g.batch, weight.data<scalar_t>(), x.data<scalar_t>(),
                              dy.data<scalar_t>(), dx.data<scalar_t>(),
                              weight_grad.data<scalar_t>(),
                              plan.pointwise ? nullptr : columns.data<scalar_t>(),
                              plan.chunks > 1 ? partial_dw.data<scalar_t>() : nullptr);
  });
  return dx;
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
    Tensor y = cpu_forward_per_image(x, weight_.value, g, out_channels_);
    if (mode == Mode::Train) saved_columns_ = x;  // backward lowers each image again
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
    // saved_columns_ holds the input x here (cpu_forward_per_image).
    weight_.grad = Tensor::empty(weight_.value.shape(), dy.dtype(), dy.device());
    return {
        cpu_backward_per_image(dy, saved_columns_, weight_.value, g, out_channels_, weight_.grad)};
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
