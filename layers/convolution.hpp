#pragma once
// 2-D convolution over NCHW batches, as the book's Convolution class: im2col, one GEMM, bias.
// Parameters follow PyTorch's Conv2d: "weight" [out, in, kh, kw] (OIHW) and "bias" [out].
//
// Two algorithms compute it (docs/convolution.md):
//   Im2col - dlfs's own kernels: im2col + GEMM (OpenBLAS / cuBLAS) + col2im, on CPU and GPU.
//   Cudnn  - cudnnConvolutionForward / BackwardData / BackwardFilter, for float32 GPU tensors
//            in builds with cuDNN. Elsewhere (CPU tensors, no cuDNN) the Im2col path runs.
#include <memory>
#include <optional>
#include <string>

#include "kernels/im2col.hpp"
#include "layers/layer.hpp"

namespace dlfs {

enum class ConvAlgorithm { Im2col, Cudnn };

// "im2col" or "cudnn" (case-insensitive) -> the algorithm; throws InputError otherwise.
ConvAlgorithm parse_conv_algorithm(const std::string& text);
const char* conv_algorithm_name(ConvAlgorithm algorithm);
// DLFS_CONV from the environment, read now: im2col when unset or empty; throws InputError
// naming the variable when it holds anything else.
ConvAlgorithm conv_algorithm_from_environment();
// The process-wide default for layers without set_algorithm(): the environment variable
// DLFS_CONV (read on first use; im2col when unset), or the last set_default_conv_algorithm().
ConvAlgorithm default_conv_algorithm();
void set_default_conv_algorithm(ConvAlgorithm algorithm);

namespace cudnn {
class ConvolutionPlan;  // descriptors and chosen algorithms for one shape (layers/cuda/)
}

class Convolution : public Layer {
 public:
  // Square stride and padding; weight and bias zero-filled, float32 on the CPU.
  Convolution(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_h,
              std::int64_t kernel_w, std::int64_t stride = 1, std::int64_t padding = 0,
              bool bias = true);
  // Any window: non-square stride and padding, dilation.
  Convolution(std::int64_t in_channels, std::int64_t out_channels,
              const kernels::ConvWindow& window, bool bias = true);

  std::string type() const override { return "Convolution"; }
  std::string describe() const override;  // "3->16, k3 s1 p1"

  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  std::vector<Parameter*> parameters() override;

  // Shape of the output for an NCHW input shape; throws dlfs::Error when the input has the wrong
  // rank or channel count, or when the kernel does not fit
  // ("Convolution: kernel 5x5 with padding 0 does not fit input 3x3").
  Shape output_shape(const Shape& input) const;

  // Overrides the process-wide default for this layer.
  void set_algorithm(ConvAlgorithm algorithm) { algorithm_ = algorithm; }
  // The algorithm this layer asks for (it may still fall back to Im2col; see above).
  ConvAlgorithm algorithm() const { return algorithm_.value_or(default_conv_algorithm()); }
  // The algorithm the last forward() actually ran.
  std::optional<ConvAlgorithm> last_algorithm() const { return last_algorithm_; }

  const kernels::ConvWindow& window() const { return window_; }
  std::int64_t in_channels() const { return in_channels_; }
  std::int64_t out_channels() const { return out_channels_; }

 private:
  kernels::ConvGeometry geometry(const Tensor& x) const;
  bool cudnn_usable(const Tensor& x) const;
  Tensor forward_im2col(const Tensor& x, const kernels::ConvGeometry& g, Mode mode);
  Tensor forward_cudnn(const Tensor& x, const kernels::ConvGeometry& g, Mode mode);
  std::vector<Tensor> backward_im2col(const Tensor& dy);
  std::vector<Tensor> backward_cudnn(const Tensor& dy);

  std::int64_t in_channels_, out_channels_;
  kernels::ConvWindow window_;
  bool has_bias_;
  Parameter weight_, bias_;
  std::optional<ConvAlgorithm> algorithm_;
  std::optional<ConvAlgorithm> last_algorithm_;

  // Kept by a Train-mode forward for backward: the input's shape and, for Im2col, its columns
  // (the weight gradient needs them); for Cudnn, the input itself.
  Shape input_shape_;
  Tensor saved_columns_;
  Tensor saved_input_;
  // cuDNN descriptors and algorithms for the last shape seen; shared_ptr because the type is
  // only complete in CUDA builds (the deleter is captured where it is created).
  std::shared_ptr<cudnn::ConvolutionPlan> cudnn_plan_;
};

}  // namespace dlfs
