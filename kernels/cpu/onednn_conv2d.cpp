#include "dlfs/kernels/cpu/onednn_conv2d.hpp"

#include <limits>

#include "dlfs/runtime/error.hpp"

#if DLFS_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <optional>
#endif

namespace dlfs::kernels::onednn {

namespace {

bool fits_int(std::int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int>::max();
}

}  // namespace

#if DLFS_HAVE_ONEDNN

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

namespace {

// oneDNN takes left and right padding; the output size it computes from them must be
// OH = (H + pl + pr - dilated_kernel) / stride + 1 exactly, so the right padding is what makes
// PyTorch's OH come out. Where the last window stops short of the bottom or right edge (a 1x1
// stride-2 shortcut on an even map) it is negative, which oneDNN accepts: those input rows are
// simply never read.
std::int64_t right_padding(std::int64_t in, std::int64_t out, std::int64_t kernel,
                           std::int64_t stride, std::int64_t dilation, std::int64_t pad) {
  return (out - 1) * stride + dilation * (kernel - 1) + 1 - in - pad;
}

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Pool memory for one blocked operand, released when the call returns.
struct Scratch {
  Tensor storage;
  memory mem;
};

Scratch scratch_for(const memory::desc& desc) {
  const std::int64_t floats =
      static_cast<std::int64_t>((desc.get_size() + sizeof(float) - 1) / sizeof(float));
  Scratch s;
  s.storage = Tensor::empty({std::max<std::int64_t>(floats, 1)}, DType::Float32);
  s.mem = memory(desc, cpu_engine(), s.storage.data<float>());
  return s;
}

// A reorder between a plain (NCHW/OIHW) user layout and a primitive's layout, made once per plan.
// `identity` when the primitive takes the plain layout itself: no copy at all then.
struct Conversion {
  memory::desc plain, blocked;
  std::optional<dnnl::reorder> to_blocked, to_plain;
  bool identity = false;

  Conversion() = default;
  Conversion(const memory::desc& plain_desc, const memory::desc& blocked_desc)
      : plain(plain_desc), blocked(blocked_desc), identity(plain_desc == blocked_desc) {}
};

}  // namespace

class ConvolutionPlan {
 public:
  ConvolutionPlan(const ConvGeometry& g, std::int64_t out_channels)
      : geometry_(g), out_channels_(out_channels) {
    const ConvWindow& w = g.window;
    source_dims_ = {g.batch, g.channels, g.height, g.width};
    weight_dims_ = {out_channels, g.channels, w.kernel_h, w.kernel_w};
    output_dims_ = {g.batch, out_channels, g.out_h, g.out_w};
    strides_ = {w.stride_h, w.stride_w};
    dilation_ = {w.dilation_h - 1, w.dilation_w - 1};  // oneDNN counts the gaps: 0 is dense
    pad_left_ = {w.pad_h, w.pad_w};
    pad_right_ = {right_padding(g.height, g.out_h, w.kernel_h, w.stride_h, w.dilation_h, w.pad_h),
                  right_padding(g.width, g.out_w, w.kernel_w, w.stride_w, w.dilation_w, w.pad_w)};

    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any(source_dims_),
        any(weight_dims_), any(output_dims_), strides_, dilation_, pad_left_, pad_right_);
    forward_pd_ = dnnl::convolution_forward::primitive_desc(desc, cpu_engine());
    forward_ = dnnl::convolution_forward(forward_pd_);
    forward_source_ = Conversion(plain(source_dims_, Tag::nchw), forward_pd_.src_desc());
    forward_weight_ = Conversion(plain(weight_dims_, Tag::oihw), forward_pd_.weights_desc());
    forward_output_ = Conversion(plain(output_dims_, Tag::nchw), forward_pd_.dst_desc());
  }

  bool matches(const ConvGeometry& g, std::int64_t out_channels) const {
    const ConvWindow &a = g.window, &b = geometry_.window;
    return out_channels == out_channels_ && g.batch == geometry_.batch &&
           g.channels == geometry_.channels && g.height == geometry_.height &&
           g.width == geometry_.width && a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w &&
           a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_h == b.pad_h &&
           a.pad_w == b.pad_w && a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w;
  }

  std::string describe() const {
    std::string s = std::string("forward ") + forward_pd_.impl_info_str();
    if (backward_data_) s += std::string(", backward data ") + backward_data_pd_.impl_info_str();
    if (backward_weights_)
      s += std::string(", backward weights ") + backward_weights_pd_.impl_info_str();
    return s;
  }

  Tensor forward(const Tensor& x, const Tensor& weight) {
    dnnl::stream stream(cpu_engine());
    Scratch source, weights, output;
    const memory src = to_blocked(forward_source_, x, stream, source);
    const memory wei = to_blocked(forward_weight_, weight, stream, weights);
    Tensor y = Tensor::empty({geometry_.batch, out_channels_, geometry_.out_h, geometry_.out_w});
    const memory dst = result_memory(forward_output_, y, output);
    forward_.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    to_plain(forward_output_, dst, y, stream);
    stream.wait();
    return y;
  }

  // Both gradients: dy is reordered once when the two primitives take it in one layout (they do
  // on the machines seen), and the weight gradient first, as the im2col paths order them.
  void backward(const Tensor& x, const Tensor& dy, const Tensor& weight, Tensor& dx, Tensor& dw) {
    make_backward_data();
    make_backward_weights();
    dnnl::stream stream(cpu_engine());
    Scratch source, gradient, weight_gradient;
    const memory src = to_blocked(backward_weights_source_, x, stream, source);
    const memory diff_dst = to_blocked(backward_weights_output_, dy, stream, gradient);
    dw = Tensor::empty(
        {out_channels_, geometry_.channels, geometry_.window.kernel_h, geometry_.window.kernel_w});
    const memory diff_wei = result_memory(backward_weights_weight_, dw, weight_gradient);
    backward_weights_->execute(
        stream,
        {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_wei}});
    to_plain(backward_weights_weight_, diff_wei, dw, stream);

    Scratch data_dy, weights, input_gradient;
    const memory data_diff_dst = backward_data_output_.blocked == backward_weights_output_.blocked
                                     ? diff_dst
                                     : to_blocked(backward_data_output_, dy, stream, data_dy);
    const memory wei = to_blocked(backward_data_weight_, weight, stream, weights);
    dx = Tensor::empty({geometry_.batch, geometry_.channels, geometry_.height, geometry_.width});
    const memory diff_src = result_memory(backward_data_source_, dx, input_gradient);
    backward_data_->execute(stream, {{DNNL_ARG_DIFF_DST, data_diff_dst},
                                     {DNNL_ARG_WEIGHTS, wei},
                                     {DNNL_ARG_DIFF_SRC, diff_src}});
    to_plain(backward_data_source_, diff_src, dx, stream);
    stream.wait();
  }

 private:
  static memory::desc any(const Dims& dims) { return memory::desc(dims, kF32, Tag::any); }
  static memory::desc plain(const Dims& dims, Tag tag) { return memory::desc(dims, kF32, tag); }

  // The operand in the primitive's layout: the tensor itself, or a reordered copy in `scratch`.
  static memory to_blocked(Conversion& c, const Tensor& t, dnnl::stream& stream, Scratch& scratch) {
    memory user(c.plain, cpu_engine(), t.data<float>());
    if (c.identity) return user;
    scratch = scratch_for(c.blocked);
    if (!c.to_blocked) c.to_blocked = dnnl::reorder(user, scratch.mem);
    c.to_blocked->execute(stream, user, scratch.mem);
    return scratch.mem;
  }

  // Where the primitive writes its result: the tensor itself, or scratch that to_plain copies.
  static memory result_memory(const Conversion& c, const Tensor& t, Scratch& scratch) {
    if (c.identity) return memory(c.plain, cpu_engine(), t.data<float>());
    scratch = scratch_for(c.blocked);
    return scratch.mem;
  }

  static void to_plain(Conversion& c, memory result, const Tensor& t, dnnl::stream& stream) {
    if (c.identity) return;
    memory user(c.plain, cpu_engine(), t.data<float>());
    if (!c.to_plain) c.to_plain = dnnl::reorder(result, user);
    c.to_plain->execute(stream, result, user);
  }

  void make_backward_data() {
    if (backward_data_) return;
    const dnnl::convolution_backward_data::desc desc(
        dnnl::algorithm::convolution_direct, any(source_dims_), any(weight_dims_),
        any(output_dims_), strides_, dilation_, pad_left_, pad_right_);
    backward_data_pd_ =
        dnnl::convolution_backward_data::primitive_desc(desc, cpu_engine(), forward_pd_);
    backward_data_ = dnnl::convolution_backward_data(backward_data_pd_);
    backward_data_output_ =
        Conversion(plain(output_dims_, Tag::nchw), backward_data_pd_.diff_dst_desc());
    backward_data_weight_ =
        Conversion(plain(weight_dims_, Tag::oihw), backward_data_pd_.weights_desc());
    backward_data_source_ =
        Conversion(plain(source_dims_, Tag::nchw), backward_data_pd_.diff_src_desc());
  }

  void make_backward_weights() {
    if (backward_weights_) return;
    const dnnl::convolution_backward_weights::desc desc(
        dnnl::algorithm::convolution_direct, any(source_dims_), any(weight_dims_),
        any(output_dims_), strides_, dilation_, pad_left_, pad_right_);
    backward_weights_pd_ =
        dnnl::convolution_backward_weights::primitive_desc(desc, cpu_engine(), forward_pd_);
    backward_weights_ = dnnl::convolution_backward_weights(backward_weights_pd_);
    backward_weights_source_ =
        Conversion(plain(source_dims_, Tag::nchw), backward_weights_pd_.src_desc());
    backward_weights_output_ =
        Conversion(plain(output_dims_, Tag::nchw), backward_weights_pd_.diff_dst_desc());
    backward_weights_weight_ =
        Conversion(plain(weight_dims_, Tag::oihw), backward_weights_pd_.diff_weights_desc());
  }

  ConvGeometry geometry_;
  std::int64_t out_channels_;
  Dims source_dims_, weight_dims_, output_dims_, strides_, dilation_, pad_left_, pad_right_;

  dnnl::convolution_forward::primitive_desc forward_pd_;
  dnnl::convolution_forward forward_;
  Conversion forward_source_, forward_weight_, forward_output_;

  dnnl::convolution_backward_data::primitive_desc backward_data_pd_;
  std::optional<dnnl::convolution_backward_data> backward_data_;
  Conversion backward_data_output_, backward_data_weight_, backward_data_source_;

  dnnl::convolution_backward_weights::primitive_desc backward_weights_pd_;
  std::optional<dnnl::convolution_backward_weights> backward_weights_;
  Conversion backward_weights_source_, backward_weights_output_, backward_weights_weight_;
};

bool available() {
  return true;
}

std::shared_ptr<ConvolutionPlan> make_convolution_plan(const ConvGeometry& geometry,
                                                       std::int64_t out_channels) {
  try {
    return std::make_shared<ConvolutionPlan>(geometry, out_channels);
  } catch (const dnnl::error& e) {
    throw Error(std::string("Convolution: oneDNN has no kernel for input [") +
                std::to_string(geometry.batch) + ", " + std::to_string(geometry.channels) + ", " +
                std::to_string(geometry.height) + ", " + std::to_string(geometry.width) + "], " +
                kernels::describe(geometry.window) + " (" + e.what() +
                "); use the im2col algorithm (DLFS_CONV=im2col)");
  }
}

bool plan_matches(const ConvolutionPlan& plan, const ConvGeometry& geometry,
                  std::int64_t out_channels) {
  return plan.matches(geometry, out_channels);
}

std::string describe(const ConvolutionPlan& plan) {
  return plan.describe();
}

Tensor convolution_forward(ConvolutionPlan& plan, const Tensor& x, const Tensor& weight) {
  return plan.forward(x, weight);
}

void convolution_backward(ConvolutionPlan& plan, const Tensor& x, const Tensor& dy,
                          const Tensor& weight, Tensor& dx, Tensor& dweight) {
  plan.backward(x, dy, weight, dx, dweight);
}

#else  // no oneDNN in this build

class ConvolutionPlan {};

namespace {
[[noreturn]] void no_onednn() {
  throw Error("Convolution: this build of dlfs has no oneDNN");
}
}  // namespace

bool available() {
  return false;
}
std::shared_ptr<ConvolutionPlan> make_convolution_plan(const ConvGeometry&, std::int64_t) {
  no_onednn();
}
bool plan_matches(const ConvolutionPlan&, const ConvGeometry&, std::int64_t) {
  return false;
}
std::string describe(const ConvolutionPlan&) {
  return "no oneDNN";
}
Tensor convolution_forward(ConvolutionPlan&, const Tensor&, const Tensor&) {
  no_onednn();
}
Tensor convolution_backward_data(ConvolutionPlan&, const Tensor&, const Tensor&) {
  no_onednn();
}
Tensor convolution_backward_weights(ConvolutionPlan&, const Tensor&, const Tensor&) {
  no_onednn();
}

#endif

bool supports(const ConvGeometry& g, std::int64_t out_channels, const Tensor& x) {
  if (!available() || !x.device().is_cpu() || x.dtype() != DType::Float32) return false;
  for (std::int64_t v : {g.batch, g.channels, g.height, g.width, out_channels, g.out_h, g.out_w})
    if (!fits_int(v)) return false;
  return true;
}

}  // namespace dlfs::kernels::onednn
