#include "dlfs/kernels/cuda/cudnn_conv2d.hpp"

#if DLFS_HAVE_CUDNN

#include <limits>
#include <optional>
#include <vector>

#include "dlfs/runtime/cuda_check.hpp"
#include "dlfs/runtime/cuda_context.hpp"

namespace dlfs::kernels::cudnn {

namespace {

// Owners of cuDNN descriptors, so a plan that fails half-built frees what it made.
struct TensorDescriptor {
  cudnnTensorDescriptor_t handle = nullptr;
  TensorDescriptor() { DLFS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&handle)); }
  ~TensorDescriptor() { cudnnDestroyTensorDescriptor(handle); }
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
};

struct FilterDescriptor {
  cudnnFilterDescriptor_t handle = nullptr;
  FilterDescriptor() { DLFS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&handle)); }
  ~FilterDescriptor() { cudnnDestroyFilterDescriptor(handle); }
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
};

struct ConvolutionDescriptor {
  cudnnConvolutionDescriptor_t handle = nullptr;
  ConvolutionDescriptor() { DLFS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&handle)); }
  ~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(handle); }
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
};

int as_int(std::int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw Error(std::string("Convolution (cuDNN): ") + what + " " + std::to_string(v) +
                " does not fit in int");
  return static_cast<int>(v);
}

cudnnHandle_t handle_for(const Device& device) {
  return cuda_context(device.index).cudnn();
}

const char* name(cudnnConvolutionFwdAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
      return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
      return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
      return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT:
      return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
      return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
      return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD:
      return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
      return "WINOGRAD_NONFUSED";
    default:
      return "unknown";
  }
}

const char* name(cudnnConvolutionBwdDataAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0:
      return "ALGO_0";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1:
      return "ALGO_1";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT:
      return "FFT";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING:
      return "FFT_TILING";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD:
      return "WINOGRAD";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED:
      return "WINOGRAD_NONFUSED";
    default:
      return "unknown";
  }
}

const char* name(cudnnConvolutionBwdFilterAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0:
      return "ALGO_0";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1:
      return "ALGO_1";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT:
      return "FFT";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3:
      return "ALGO_3";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED:
      return "WINOGRAD_NONFUSED";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING:
      return "FFT_TILING";
    default:
      return "unknown";
  }
}

template <typename Algo>
struct Choice {
  Algo algo{};
  std::size_t workspace = 0;
  bool deterministic = false;
};

// Walks cuDNN's ranking (best first) and keeps the first qualifying algorithm, preferring a
// deterministic one. `workspace_of(algo, &bytes)` asks cuDNN for the workspace size.
template <typename Algo, typename Perf, typename WorkspaceOf>
Choice<Algo> choose(const std::vector<Perf>& ranked, WorkspaceOf workspace_of, const char* pass,
                    const kernels::ConvGeometry& g) {
  std::optional<Choice<Algo>> best_any;
  for (const Perf& perf : ranked) {
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    // TF32 would make the GPU compute something else than the CPU (10-bit mantissas).
    if (perf.mathType == CUDNN_TENSOR_OP_MATH ||
        perf.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      continue;
    std::size_t bytes = 0;
    if (workspace_of(perf.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspaceBytes)
      continue;
    Choice<Algo> c{perf.algo, bytes, perf.determinism == CUDNN_DETERMINISTIC};
    if (c.deterministic) return c;
    if (!best_any) best_any = c;
  }
  if (best_any) return *best_any;
  throw Error(std::string("Convolution (cuDNN): no usable ") + pass + " algorithm for input [" +
              std::to_string(g.batch) + ", " + std::to_string(g.channels) + ", " +
              std::to_string(g.height) + ", " + std::to_string(g.width) + "] with " +
              kernels::describe(g.window) + "; use the im2col algorithm (DLFS_CONV=im2col)");
}

// Pool memory for a cuDNN workspace; an undefined tensor when none is needed.
Tensor workspace(std::size_t bytes, const Device& device) {
  if (bytes == 0) return Tensor();
  return Tensor::empty({static_cast<std::int64_t>(bytes)}, DType::UInt8, device);
}

void* pointer(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

}  // namespace

class ConvolutionPlan {
 public:
  ConvolutionPlan(const kernels::ConvGeometry& g, std::int64_t out_channels, const Device& device)
      : geometry(g), out_channels(out_channels), device(device) {
    const kernels::ConvWindow& w = g.window;
    DLFS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(
        x.handle, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, as_int(g.batch, "batch"),
        as_int(g.channels, "channels"), as_int(g.height, "height"), as_int(g.width, "width")));
    DLFS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(
        filter.handle, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, as_int(out_channels, "out channels"),
        as_int(g.channels, "channels"), as_int(w.kernel_h, "kernel"),
        as_int(w.kernel_w, "kernel")));
    DLFS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.handle, as_int(w.pad_h, "padding"), as_int(w.pad_w, "padding"),
        as_int(w.stride_h, "stride"), as_int(w.stride_w, "stride"),
        as_int(w.dilation_h, "dilation"), as_int(w.dilation_w, "dilation"), CUDNN_CROSS_CORRELATION,
        CUDNN_DATA_FLOAT));
    // Plain FP32 FMA kernels only: no TF32 tensor cores (see choose()).
    DLFS_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.handle, CUDNN_FMA_MATH));

    int n = 0, c = 0, h = 0, wd = 0;
    DLFS_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv.handle, x.handle, filter.handle, &n,
                                                           &c, &h, &wd));
    if (n != g.batch || c != out_channels || h != g.out_h || wd != g.out_w)
      throw Error("Convolution (cuDNN): cuDNN computes output [" + std::to_string(n) + ", " +
                  std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(wd) +
                  "], dlfs [" + std::to_string(g.batch) + ", " + std::to_string(out_channels) +
                  ", " + std::to_string(g.out_h) + ", " + std::to_string(g.out_w) + "]");
    DLFS_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(y.handle, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, wd));
    choose_algorithms();
  }

  void choose_algorithms() {
    cudnnHandle_t handle = handle_for(device);
    int max_count = 0, returned = 0;

    DLFS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> fwd_ranked(static_cast<std::size_t>(max_count));
    DLFS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, x.handle, filter.handle,
                                                            conv.handle, y.handle, max_count,
                                                            &returned, fwd_ranked.data()));
    fwd_ranked.resize(static_cast<std::size_t>(returned));
    forward = choose<cudnnConvolutionFwdAlgo_t>(
        fwd_ranked,
        [&](cudnnConvolutionFwdAlgo_t a, std::size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(handle, x.handle, filter.handle,
                                                         conv.handle, y.handle, a, bytes);
        },
        "forward", geometry);

    DLFS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data_ranked(static_cast<std::size_t>(max_count));
    DLFS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, filter.handle, y.handle,
                                                                 conv.handle, x.handle, max_count,
                                                                 &returned, data_ranked.data()));
    data_ranked.resize(static_cast<std::size_t>(returned));
    backward_data = choose<cudnnConvolutionBwdDataAlgo_t>(
        data_ranked,
        [&](cudnnConvolutionBwdDataAlgo_t a, std::size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, filter.handle, y.handle,
                                                              conv.handle, x.handle, a, bytes);
        },
        "backward-data", geometry);

    DLFS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter_ranked(
        static_cast<std::size_t>(max_count));
    DLFS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        handle, x.handle, y.handle, conv.handle, filter.handle, max_count, &returned,
        filter_ranked.data()));
    filter_ranked.resize(static_cast<std::size_t>(returned));
    backward_filter = choose<cudnnConvolutionBwdFilterAlgo_t>(
        filter_ranked,
        [&](cudnnConvolutionBwdFilterAlgo_t a, std::size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(
              handle, x.handle, y.handle, conv.handle, filter.handle, a, bytes);
        },
        "backward-filter", geometry);
  }

  kernels::ConvGeometry geometry;
  std::int64_t out_channels;
  Device device;
  TensorDescriptor x, y;
  FilterDescriptor filter;
  ConvolutionDescriptor conv;
  Choice<cudnnConvolutionFwdAlgo_t> forward;
  Choice<cudnnConvolutionBwdDataAlgo_t> backward_data;
  Choice<cudnnConvolutionBwdFilterAlgo_t> backward_filter;
};

std::shared_ptr<ConvolutionPlan> make_convolution_plan(const kernels::ConvGeometry& geometry,
                                                       std::int64_t out_channels,
                                                       const Device& device) {
  return std::make_shared<ConvolutionPlan>(geometry, out_channels, device);
}

bool plan_matches(const ConvolutionPlan& plan, const kernels::ConvGeometry& g,
                  std::int64_t out_channels, const Device& device) {
  const kernels::ConvGeometry& p = plan.geometry;
  const kernels::ConvWindow &a = p.window, &b = g.window;
  return plan.device == device && plan.out_channels == out_channels && p.batch == g.batch &&
         p.channels == g.channels && p.height == g.height && p.width == g.width &&
         a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w && a.stride_h == b.stride_h &&
         a.stride_w == b.stride_w && a.pad_h == b.pad_h && a.pad_w == b.pad_w &&
         a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w;
}

std::string describe(const ConvolutionPlan& plan) {
  auto one = [](const char* pass, const char* algo, std::size_t bytes, bool deterministic) {
    return std::string(pass) + " " + algo + " (" + std::to_string(bytes) + " B workspace" +
           (deterministic ? "" : ", non-deterministic") + ")";
  };
  return one("forward", name(plan.forward.algo), plan.forward.workspace,
             plan.forward.deterministic) +
         ", " +
         one("backward data", name(plan.backward_data.algo), plan.backward_data.workspace,
             plan.backward_data.deterministic) +
         ", " +
         one("backward filter", name(plan.backward_filter.algo), plan.backward_filter.workspace,
             plan.backward_filter.deterministic);
}

Tensor convolution_forward(const ConvolutionPlan& plan, const Tensor& x, const Tensor& weight) {
  const kernels::ConvGeometry& g = plan.geometry;
  Tensor y =
      Tensor::empty({g.batch, plan.out_channels, g.out_h, g.out_w}, DType::Float32, plan.device);
  Tensor space = workspace(plan.forward.workspace, plan.device);
  const float one = 1.0f, zero = 0.0f;
  DLFS_CUDNN_CHECK(cudnnConvolutionForward(
      handle_for(plan.device), &one, plan.x.handle, x.data<float>(), plan.filter.handle,
      weight.data<float>(), plan.conv.handle, plan.forward.algo, pointer(space),
      plan.forward.workspace, &zero, plan.y.handle, y.data<float>()));
  return y;
}

Tensor convolution_backward_data(const ConvolutionPlan& plan, const Tensor& dy,
                                 const Tensor& weight) {
  const kernels::ConvGeometry& g = plan.geometry;
  Tensor dx = Tensor::empty({g.batch, g.channels, g.height, g.width}, DType::Float32, plan.device);
  Tensor space = workspace(plan.backward_data.workspace, plan.device);
  const float one = 1.0f, zero = 0.0f;
  DLFS_CUDNN_CHECK(cudnnConvolutionBackwardData(
      handle_for(plan.device), &one, plan.filter.handle, weight.data<float>(), plan.y.handle,
      dy.data<float>(), plan.conv.handle, plan.backward_data.algo, pointer(space),
      plan.backward_data.workspace, &zero, plan.x.handle, dx.data<float>()));
  return dx;
}

Tensor convolution_backward_filter(const ConvolutionPlan& plan, const Tensor& x, const Tensor& dy) {
  const kernels::ConvGeometry& g = plan.geometry;
  const kernels::ConvWindow& w = g.window;
  Tensor dw = Tensor::empty({plan.out_channels, g.channels, w.kernel_h, w.kernel_w}, DType::Float32,
                            plan.device);
  Tensor space = workspace(plan.backward_filter.workspace, plan.device);
  const float one = 1.0f, zero = 0.0f;
  DLFS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      handle_for(plan.device), &one, plan.x.handle, x.data<float>(), plan.y.handle,
      dy.data<float>(), plan.conv.handle, plan.backward_filter.algo, pointer(space),
      plan.backward_filter.workspace, &zero, plan.filter.handle, dw.data<float>()));
  return dw;
}

}  // namespace dlfs::kernels::cudnn

#endif  // DLFS_HAVE_CUDNN
