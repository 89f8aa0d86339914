#pragma once
// 2-D convolution over NCHW batches, as the book's Convolution class: im2col, one GEMM, bias.
// Parameters follow PyTorch's Conv2d: "weight" [out, in, kh, kw] (OIHW) and "bias" [out].
//
// The layer holds the parameters and what a training forward keeps for backward; the computing
// is the op kernels/conv2d.hpp, which picks one of its paths (oneDNN, per image or batched
// columns on the CPU; im2col or cuDNN on a GPU) by a documented rule from the algorithm the layer
// asks for:
//   Auto   - the default: oneDNN for float32 CPU tensors in builds with oneDNN (Winograd for
//            wide 3x3 layers on large maps), Im2col elsewhere.
//   Im2col - dlfs's own kernels: im2col + GEMM (OpenBLAS / cuBLAS) + col2im, on CPU and GPU.
//   Onednn - oneDNN, for float32 CPU tensors in builds with oneDNN. Elsewhere as Auto.
//   Winograd - oneDNN's Winograd kernels for 3x3 stride-1 layers (its direct ones for others).
//   Cudnn  - cuDNN, for float32 GPU tensors in builds with cuDNN. Elsewhere as Auto.
#include <optional>
#include <string>

#include "dlfs/kernels/conv2d.hpp"
#include "dlfs/layers/layer.hpp"

namespace dlfs {

using kernels::conv_algorithm_name;
using kernels::ConvAlgorithm;
using kernels::parse_conv_algorithm;

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
  // The bias, the epilogue and the pool applied to each image (per-image paths) or chunk of
  // images (oneDNN) as it is made (kernels::conv2d_forward_fused); an epilogue on the CPU only.
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override;
  std::vector<Parameter*> parameters() override;

  // Shape of the output for an NCHW input shape; throws dlfs::Error when the input has the wrong
  // rank or channel count, or when the kernel does not fit
  // ("Convolution: kernel 5x5 with padding 0 does not fit input 3x3").
  Shape output_shape(const Shape& input) const;

  // The algorithm this layer asks for: DLFS_CONV when the layer was built (auto when unset),
  // until set here. It may still fall back to Im2col (see above).
  void set_algorithm(ConvAlgorithm algorithm) { algorithm_ = algorithm; }
  ConvAlgorithm algorithm() const { return algorithm_; }
  // The path the last forward() ran (kernels/conv2d.hpp); nullopt before the first.
  std::optional<kernels::Conv2dPath> last_path() const { return last_path_; }
  // The algorithm the last forward() actually ran: Cudnn or Onednn for those libraries' paths,
  // Im2col for dlfs's own (the direct one-channel kernels included; last_path() tells them
  // apart).
  std::optional<ConvAlgorithm> last_algorithm() const;

  const kernels::ConvWindow& window() const { return window_; }
  std::int64_t in_channels() const { return in_channels_; }
  std::int64_t out_channels() const { return out_channels_; }

 private:
  kernels::ConvGeometry geometry(const Tensor& x) const;
  // What both forwards do first: checks x against the weight, fills *g, forgets the saved state
  // and picks the path.
  kernels::Conv2dPath start_forward(const Tensor& x, kernels::ConvGeometry* g);

  std::int64_t in_channels_, out_channels_;
  kernels::ConvWindow window_;
  bool has_bias_;
  Parameter weight_, bias_;
  ConvAlgorithm algorithm_;
  std::optional<kernels::Conv2dPath> last_path_;
  // Kept by a Train-mode forward for backward (its path, shapes, and columns or input).
  kernels::Conv2dSaved saved_;
  kernels::Conv2dCache cache_;  // the cuDNN or oneDNN plan for the last shape seen
};

}  // namespace dlfs
