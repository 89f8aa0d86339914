#include "dlfs/kernels/cpu/onednn_conv2d.hpp"

#include <limits>

#include "dlfs/runtime/error.hpp"

#if DLFS_HAVE_ONEDNN
#include <omp.h>

#include <algorithm>
#include <exception>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <utility>

#include "dlfs/kernels/cpu/chunk_partial_sums.hpp"
#include "dlfs/kernels/cpu/thread_count_scope.hpp"
#endif

namespace dlfs::kernels::onednn {

namespace {

bool fits_int(std::int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int>::max();
}

}  // namespace

#if DLFS_HAVE_ONEDNN

using cpu::add_partials_in_chunk_order;
using cpu::chunks_within_partial_cap;
using cpu::ThreadCountScope;
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

// Floats that hold `desc`, rounded up to 16 (64 bytes) so that buffers laid end to end stay
// aligned as oneDNN likes them.
std::int64_t floats_of(const memory::desc& desc) {
  const auto floats =
      static_cast<std::int64_t>((desc.get_size() + sizeof(float) - 1) / sizeof(float));
  return (floats + 15) / 16 * 16;
}

// Every primitive here takes its scratchpad from the caller: oneDNN's own (library) scratchpad
// is thread-local storage of the thread that made the primitive, and the chunks run on others.
dnnl::primitive_attr caller_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory scratchpad_memory(const memory::desc& desc, float* pad) {
  return memory(desc, cpu_engine(), pad);
}

// A reorder between a plain (NCHW/OIHW) user layout and a primitive's layout, made once.
// `identity` when the primitive takes the plain layout itself: no copy at all then.
struct Conversion {
  memory::desc plain, blocked;
  std::optional<dnnl::reorder> to_blocked, to_plain;
  memory::desc to_blocked_pad, to_plain_pad;
  bool identity = false;

  Conversion() = default;
  Conversion(const memory::desc& plain_desc, const memory::desc& blocked_desc)
      : plain(plain_desc), blocked(blocked_desc), identity(plain_desc == blocked_desc) {
    if (identity) return;
    // Made here, not on first use: the chunks use them from several threads at once.
    const memory p(plain, cpu_engine(), nullptr), b(blocked, cpu_engine(), nullptr);
    const dnnl::reorder::primitive_desc forth(p, b, caller_scratchpad());
    const dnnl::reorder::primitive_desc back(b, p, caller_scratchpad());
    to_blocked = dnnl::reorder(forth);
    to_plain = dnnl::reorder(back);
    to_blocked_pad = forth.scratchpad_desc();
    to_plain_pad = back.scratchpad_desc();
  }

  // The operand at `data` in the primitive's layout: `data` itself, or a copy in `buffer`.
  memory blocked_copy(const float* data, float* buffer, float* pad, dnnl::stream& stream) const {
    memory user(plain, cpu_engine(), const_cast<float*>(data));
    if (identity) return user;
    memory copy(blocked, cpu_engine(), buffer);
    to_blocked->execute(stream, {{DNNL_ARG_FROM, user},
                                 {DNNL_ARG_TO, copy},
                                 {DNNL_ARG_SCRATCHPAD, scratchpad_memory(to_blocked_pad, pad)}});
    return copy;
  }
  // Where a primitive writes a result that belongs at `data`: there, or in `buffer`.
  memory result(float* data, float* buffer) const {
    return memory(identity ? plain : blocked, cpu_engine(), identity ? data : buffer);
  }
  void to_user(memory result, float* data, float* pad, dnnl::stream& stream) const {
    if (identity) return;
    memory user(plain, cpu_engine(), data);
    to_plain->execute(stream, {{DNNL_ARG_FROM, result},
                               {DNNL_ARG_TO, user},
                               {DNNL_ARG_SCRATCHPAD, scratchpad_memory(to_plain_pad, pad)}});
  }
  // Floats of the blocked copy (0 without one).
  std::int64_t blocked_floats() const { return identity ? 0 : floats_of(blocked); }
  std::int64_t scratchpad_floats() const {
    return identity ? 0 : std::max(floats_of(to_blocked_pad), floats_of(to_plain_pad));
  }
};

memory::desc any(const Dims& dims) {
  return memory::desc(dims, kF32, Tag::any);
}
memory::desc plain(const Dims& dims, Tag tag) {
  return memory::desc(dims, kF32, tag);
}

// Makes a primitive descriptor with oneDNN's Winograd algorithm when `winograd` asks for it and
// oneDNN has such a kernel for the shape, with its direct algorithm otherwise.
template <typename MakeDescriptor>
auto with_algorithm(bool winograd, const MakeDescriptor& make) {
  if (winograd) {
    try {
      return make(dnnl::algorithm::convolution_winograd);
    } catch (const dnnl::error&) {
      // No Winograd kernel for this shape or machine: the direct one below.
    }
  }
  return make(dnnl::algorithm::convolution_direct);
}

// The primitives for `batch` images of one convolution shape: forward, and once a backward has
// run, backward-data and backward-weights, each with its reorders. With `winograd`, each of the
// three takes oneDNN's Winograd kernel where there is one.
class BatchPrimitives {
 public:
  BatchPrimitives(const ConvGeometry& g, std::int64_t out_channels, std::int64_t batch,
                  bool winograd)
      : winograd_(winograd) {
    const ConvWindow& w = g.window;
    source_dims_ = {batch, g.channels, g.height, g.width};
    weight_dims_ = {out_channels, g.channels, w.kernel_h, w.kernel_w};
    output_dims_ = {batch, out_channels, g.out_h, g.out_w};
    strides_ = {w.stride_h, w.stride_w};
    dilation_ = {w.dilation_h - 1, w.dilation_w - 1};  // oneDNN counts the gaps: 0 is dense
    pad_left_ = {w.pad_h, w.pad_w};
    pad_right_ = {right_padding(g.height, g.out_h, w.kernel_h, w.stride_h, w.dilation_h, w.pad_h),
                  right_padding(g.width, g.out_w, w.kernel_w, w.stride_w, w.dilation_w, w.pad_w)};
    forward_pd = with_algorithm(winograd_, [&](dnnl::algorithm algorithm) {
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_training, algorithm, any(source_dims_), any(weight_dims_),
          any(output_dims_), strides_, dilation_, pad_left_, pad_right_);
      return dnnl::convolution_forward::primitive_desc(desc, caller_scratchpad(), cpu_engine());
    });
    forward = dnnl::convolution_forward(forward_pd);
    forward_source = Conversion(plain(source_dims_, Tag::nchw), forward_pd.src_desc());
    forward_weight = Conversion(plain(weight_dims_, Tag::oihw), forward_pd.weights_desc());
    forward_output = Conversion(plain(output_dims_, Tag::nchw), forward_pd.dst_desc());
  }

  void make_backward() {
    if (backward_data) return;
    backward_data_pd = with_algorithm(winograd_, [&](dnnl::algorithm algorithm) {
      const dnnl::convolution_backward_data::desc desc(algorithm, any(source_dims_),
                                                       any(weight_dims_), any(output_dims_),
                                                       strides_, dilation_, pad_left_, pad_right_);
      return dnnl::convolution_backward_data::primitive_desc(desc, caller_scratchpad(),
                                                             cpu_engine(), forward_pd);
    });
    backward_weights_pd = with_algorithm(winograd_, [&](dnnl::algorithm algorithm) {
      const dnnl::convolution_backward_weights::desc desc(
          algorithm, any(source_dims_), any(weight_dims_), any(output_dims_), strides_, dilation_,
          pad_left_, pad_right_);
      return dnnl::convolution_backward_weights::primitive_desc(desc, caller_scratchpad(),
                                                                cpu_engine(), forward_pd);
    });
    backward_data_output =
        Conversion(plain(output_dims_, Tag::nchw), backward_data_pd.diff_dst_desc());
    backward_data_weight =
        Conversion(plain(weight_dims_, Tag::oihw), backward_data_pd.weights_desc());
    backward_data_source =
        Conversion(plain(source_dims_, Tag::nchw), backward_data_pd.diff_src_desc());
    backward_weights_source =
        Conversion(plain(source_dims_, Tag::nchw), backward_weights_pd.src_desc());
    backward_weights_output =
        Conversion(plain(output_dims_, Tag::nchw), backward_weights_pd.diff_dst_desc());
    backward_weights_weight =
        Conversion(plain(weight_dims_, Tag::oihw), backward_weights_pd.diff_weights_desc());
    backward_weights = dnnl::convolution_backward_weights(backward_weights_pd);
    backward_data = dnnl::convolution_backward_data(backward_data_pd);
  }

  // The largest scratchpad any of the primitives made so far asks for.
  std::int64_t scratchpad_floats() const {
    std::int64_t most = floats_of(forward_pd.scratchpad_desc());
    for (const Conversion* c : {&forward_source, &forward_weight, &forward_output})
      most = std::max(most, c->scratchpad_floats());
    if (!backward_data) return most;
    most = std::max({most, floats_of(backward_data_pd.scratchpad_desc()),
                     floats_of(backward_weights_pd.scratchpad_desc())});
    for (const Conversion* c :
         {&backward_data_output, &backward_data_weight, &backward_data_source,
          &backward_weights_source, &backward_weights_output, &backward_weights_weight})
      most = std::max(most, c->scratchpad_floats());
    return most;
  }

  // dy is reordered once when both backward primitives take it in one layout (they do on the
  // machines seen).
  bool shared_output_gradient() const {
    return backward_data_output.blocked == backward_weights_output.blocked;
  }

  dnnl::convolution_forward::primitive_desc forward_pd;
  dnnl::convolution_forward forward;
  Conversion forward_source, forward_weight, forward_output;

  dnnl::convolution_backward_data::primitive_desc backward_data_pd;
  std::optional<dnnl::convolution_backward_data> backward_data;
  Conversion backward_data_output, backward_data_weight, backward_data_source;

  dnnl::convolution_backward_weights::primitive_desc backward_weights_pd;
  std::optional<dnnl::convolution_backward_weights> backward_weights;
  Conversion backward_weights_source, backward_weights_output, backward_weights_weight;

 private:
  bool winograd_;
  Dims source_dims_, weight_dims_, output_dims_, strides_, dilation_, pad_left_, pad_right_;
};

// Runs task(chunk, thread) for every chunk: on a team of threads taking chunks as they finish
// their last one (a busy core takes fewer), or in order on the calling thread. An exception in
// a chunk is rethrown here after the team ends.
template <typename Task>
void for_each_chunk(std::int64_t chunks, int team, const Task& task) {
  if (team <= 1) {
    for (std::int64_t i = 0; i < chunks; ++i) task(i, 0);
    return;
  }
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
  for (std::int64_t i = 0; i < chunks; ++i) {
    try {
      task(i, omp_get_thread_num());
    } catch (...) {
#pragma omp critical(dlfs_onednn_chunk_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

class ConvolutionPlan {
 public:
  ConvolutionPlan(const ConvGeometry& g, std::int64_t out_channels, bool winograd)
      : geometry_(g), out_channels_(out_channels), winograd_(winograd) {
    geometry_.batch = 0;  // the plan serves any batch
    // Made now so that a shape oneDNN cannot run fails at the layer's first forward.
    split(g.batch);
  }

  bool matches(const ConvGeometry& g, std::int64_t out_channels, bool winograd) const {
    const ConvWindow &a = g.window, &b = geometry_.window;
    return winograd == winograd_ && out_channels == out_channels_ &&
           g.channels == geometry_.channels && g.height == geometry_.height &&
           g.width == geometry_.width && a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w &&
           a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_h == b.pad_h &&
           a.pad_w == b.pad_w && a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w;
  }

  std::string describe() const {
    const Split& last = last_split_;
    const BatchPrimitives& p = *last.full;
    std::string s = std::string("forward ") + p.forward_pd.impl_info_str();
    if (p.backward_data) {
      s += std::string(", backward data ") + p.backward_data_pd.impl_info_str();
      s += std::string(", backward weights ") + p.backward_weights_pd.impl_info_str();
    }
    s += "; " + std::to_string(last.chunks) + (last.chunks == 1 ? " chunk of " : " chunks of ") +
         std::to_string(last.size) +
         (last.threaded ? " images on oneDNN's threads" : " images, one thread each");
    return s;
  }

  Tensor forward(const Tensor& x, const Tensor& weight, const ChunkEpilogue& after,
                 bool write_output) {
    const std::int64_t batch = x.dim(0);
    const Split s = split(batch);
    const Tensor weights = blocked_weights(s, weight, &BatchPrimitives::forward_weight);
    const std::int64_t image_floats = out_channels_ * geometry_.out_h * geometry_.out_w;
    Tensor y;
    if (write_output) y = Tensor::empty({batch, out_channels_, geometry_.out_h, geometry_.out_w});
    const std::int64_t source_floats = s.floats(&BatchPrimitives::forward_source);
    const std::int64_t output_floats = s.floats(&BatchPrimitives::forward_output);
    // Without y, a chunk's NCHW output goes here, one per thread.
    const std::int64_t chunk_floats = write_output ? 0 : (s.size * image_floats + 15) / 16 * 16;
    ThreadScratch scratch(s, team_size(s), source_floats + output_floats + chunk_floats);
    for_each_chunk(s.chunks, scratch.team, [&](std::int64_t i, int thread) {
      BatchPrimitives& p = s.primitives(i);
      dnnl::stream stream(cpu_engine());
      float* pad = scratch.pad(thread);
      float* buffers = scratch.buffers(thread);
      const std::int64_t first = i * s.size;
      const memory src =
          p.forward_source.blocked_copy(x.data<float>() + first * image(x), buffers, pad, stream);
      float* y_chunk = write_output ? y.data<float>() + first * image_floats
                                    : buffers + source_floats + output_floats;
      const memory dst = p.forward_output.result(y_chunk, buffers + source_floats);
      p.forward.execute(
          stream, {{DNNL_ARG_SRC, src},
                   {DNNL_ARG_WEIGHTS,
                    weights_memory(s, i, weights, weight, &BatchPrimitives::forward_weight)},
                   {DNNL_ARG_DST, dst},
                   {DNNL_ARG_SCRATCHPAD, scratchpad_memory(p.forward_pd.scratchpad_desc(), pad)}});
      p.forward_output.to_user(dst, y_chunk, pad, stream);
      stream.wait();
      if (after) after(y_chunk, first, std::min(s.size, batch - first));
    });
    return y;
  }

  // dW is summed from one partial per chunk, in chunk order, so its bits depend on the batch
  // only, not on which thread ran which chunk. Without dx, the backward-data pass is skipped.
  void backward(const Tensor& x, const Tensor& dy, const Tensor& weight, Tensor* dx, Tensor& dw) {
    const std::int64_t batch = x.dim(0);
    const Split s = split(batch);
    {
      const ThreadCountScope threads(s.threaded ? omp_get_max_threads() : 1);
      s.full->make_backward();
      if (s.tail) s.tail->make_backward();
    }
    const Tensor weights =
        dx ? blocked_weights(s, weight, &BatchPrimitives::backward_data_weight) : Tensor();
    const std::int64_t weight_floats = weight.numel();
    if (dx) *dx = Tensor::empty(x.shape());
    dw = Tensor::empty(weight.shape());
    // Where the primitive writes dW in a blocked layout, the chunks' partials are summed in that
    // layout and the sum reordered once, rather than each partial on its own: the same sums of
    // the same values, so the same bits. Otherwise chunk 0's partial goes straight into dW, the
    // others into `partials`, each reordered to OIHW by its chunk.
    const Conversion& weight_gradient = s.full->backward_weights_weight;
    const bool sum_blocked =
        s.chunks > 1 && !weight_gradient.identity &&
        (!s.tail || s.tail->backward_weights_weight.blocked == weight_gradient.blocked);
    const std::int64_t partial_floats =
        sum_blocked ? weight_gradient.blocked_floats() : weight_floats;
    Tensor partials;
    if (s.chunks > 1)
      partials = Tensor::empty({(sum_blocked ? s.chunks : s.chunks - 1) * partial_floats});

    const bool shared =
        s.full->shared_output_gradient() && (!s.tail || s.tail->shared_output_gradient());
    const std::int64_t source_floats = s.floats(&BatchPrimitives::backward_weights_source);
    const std::int64_t output_floats = s.floats(&BatchPrimitives::backward_weights_output);
    const std::int64_t data_output_floats =
        shared ? 0 : s.floats(&BatchPrimitives::backward_data_output);
    const std::int64_t weight_gradient_floats =
        sum_blocked ? 0 : s.floats(&BatchPrimitives::backward_weights_weight);
    const std::int64_t input_gradient_floats = s.floats(&BatchPrimitives::backward_data_source);
    ThreadScratch scratch(s, team_size(s),
                          source_floats + output_floats + data_output_floats +
                              weight_gradient_floats + input_gradient_floats);
    for_each_chunk(s.chunks, scratch.team, [&](std::int64_t i, int thread) {
      BatchPrimitives& p = s.primitives(i);
      dnnl::stream stream(cpu_engine());
      float* pad = scratch.pad(thread);
      float* next = scratch.buffers(thread);
      const auto take = [&next](std::int64_t floats) {
        float* b = next;
        next += floats;
        return b;
      };
      const std::int64_t first = i * s.size;
      const memory src = p.backward_weights_source.blocked_copy(x.data<float>() + first * image(x),
                                                                take(source_floats), pad, stream);
      const float* dy_chunk = dy.data<float>() + first * image(dy);
      const memory diff_dst =
          p.backward_weights_output.blocked_copy(dy_chunk, take(output_floats), pad, stream);
      float* partial = sum_blocked ? partials.data<float>() + i * partial_floats
                       : i == 0    ? dw.data<float>()
                                   : partials.data<float>() + (i - 1) * partial_floats;
      const memory diff_wei =
          sum_blocked ? memory(p.backward_weights_weight.blocked, cpu_engine(), partial)
                      : p.backward_weights_weight.result(partial, take(weight_gradient_floats));
      p.backward_weights->execute(
          stream,
          {{DNNL_ARG_SRC, src},
           {DNNL_ARG_DIFF_DST, diff_dst},
           {DNNL_ARG_DIFF_WEIGHTS, diff_wei},
           {DNNL_ARG_SCRATCHPAD, scratchpad_memory(p.backward_weights_pd.scratchpad_desc(), pad)}});
      if (!sum_blocked) p.backward_weights_weight.to_user(diff_wei, partial, pad, stream);
      if (!dx) {
        stream.wait();
        return;
      }

      float* data_output_buffer = take(data_output_floats);
      const memory data_diff_dst =
          p.shared_output_gradient()
              ? diff_dst
              : p.backward_data_output.blocked_copy(dy_chunk, data_output_buffer, pad, stream);
      float* dx_chunk = dx->data<float>() + first * image(*dx);
      const memory diff_src = p.backward_data_source.result(dx_chunk, take(input_gradient_floats));
      p.backward_data->execute(
          stream,
          {{DNNL_ARG_DIFF_DST, data_diff_dst},
           {DNNL_ARG_WEIGHTS,
            weights_memory(s, i, weights, weight, &BatchPrimitives::backward_data_weight)},
           {DNNL_ARG_DIFF_SRC, diff_src},
           {DNNL_ARG_SCRATCHPAD, scratchpad_memory(p.backward_data_pd.scratchpad_desc(), pad)}});
      p.backward_data_source.to_user(diff_src, dx_chunk, pad, stream);
      stream.wait();
    });

    if (s.chunks == 1) return;
    if (!sum_blocked) {
      add_partials_in_chunk_order(dw.data<float>(), partials.data<float>(), s.chunks - 1,
                                  weight_floats);
      return;
    }
    float* sum = partials.data<float>();
    add_partials_in_chunk_order(sum, sum + partial_floats, s.chunks - 1, partial_floats);
    const ThreadCountScope threads(s.threaded ? omp_get_max_threads() : 1);
    dnnl::stream stream(cpu_engine());
    weight_gradient.to_user(memory(weight_gradient.blocked, cpu_engine(), sum), dw.data<float>(),
                            scratch.pad(0), stream);
    stream.wait();
  }

 private:
  // How a batch is run: `chunks` chunks of `size` images (the last one `tail` images), each on
  // one thread with primitives made for one thread; or, with more threads than chunks, the whole
  // batch as one chunk on oneDNN's own threads.
  struct Split {
    std::int64_t size = 0, chunks = 0;
    bool threaded = false;
    BatchPrimitives* full = nullptr;
    BatchPrimitives* tail = nullptr;  // when the last chunk is smaller
    BatchPrimitives& primitives(std::int64_t chunk) const {
      return tail && chunk == chunks - 1 ? *tail : *full;
    }
    // Floats for one chunk's copy of an operand: the larger of the two chunk sizes' layouts.
    std::int64_t floats(Conversion BatchPrimitives::*operand) const {
      const std::int64_t f = ((*full).*operand).blocked_floats();
      return tail ? std::max(f, ((*tail).*operand).blocked_floats()) : f;
    }
    std::int64_t scratchpad_floats() const {
      const std::int64_t f = full->scratchpad_floats();
      return tail ? std::max(f, tail->scratchpad_floats()) : f;
    }
  };

  // Each thread's oneDNN scratchpad and blocked copies, from the pool for one call.
  struct ThreadScratch {
    ThreadScratch(const Split& s, int team_size, std::int64_t buffer_floats)
        : team(team_size),
          pad_floats(s.scratchpad_floats()),
          per_thread(pad_floats + buffer_floats) {
      storage = Tensor::empty({std::max<std::int64_t>(per_thread * team, 1)});
    }
    float* pad(int thread) { return storage.data<float>() + thread * per_thread; }
    float* buffers(int thread) { return pad(thread) + pad_floats; }

    int team;
    std::int64_t pad_floats, per_thread;
    Tensor storage;
  };

  static std::int64_t image(const Tensor& t) { return t.numel() / t.dim(0); }

  // dW takes one partial sum per chunk: layers with large weights (ResNet-18's last stage: 9.4 MB
  // each) get 4 or 2 chunks instead of 8, by the rule of chunk_partial_sums.hpp.
  std::int64_t max_chunks() const {
    const std::int64_t weight_bytes = out_channels_ * geometry_.channels *
                                      geometry_.window.kernel_h * geometry_.window.kernel_w *
                                      static_cast<std::int64_t>(sizeof(float));
    return chunks_within_partial_cap(kMaxChunks, 2, weight_bytes);
  }

  Split split(std::int64_t batch) {
    Split s;
    const std::int64_t most = max_chunks();
    s.size = (batch + most - 1) / most;
    s.chunks = (batch + s.size - 1) / s.size;
    s.threaded = omp_get_max_threads() > s.chunks;
    if (s.threaded) {
      s.size = batch;
      s.chunks = 1;
    }
    const std::int64_t tail = batch - (s.chunks - 1) * s.size;
    // A few batch sizes recur (training, an epoch's last batch, validation); more than that
    // means the sizes keep changing, and the old primitives are dropped before making new ones.
    if (primitives_.size() + 2 > kMaxPrimitiveSets &&
        (!primitives_.count({s.size, s.threaded}) || !primitives_.count({tail, s.threaded})))
      primitives_.clear();
    s.full = &primitives_for(s.size, s.threaded);
    if (tail != s.size) s.tail = &primitives_for(tail, s.threaded);
    last_split_ = s;
    return s;
  }

  BatchPrimitives& primitives_for(std::int64_t batch, bool threaded) {
    const auto key = std::make_pair(batch, threaded);
    auto it = primitives_.find(key);
    if (it != primitives_.end()) return *it->second;
    const ThreadCountScope threads(threaded ? omp_get_max_threads() : 1);
    auto made = std::make_unique<BatchPrimitives>(geometry_, out_channels_, batch, winograd_);
    return *primitives_.emplace(key, std::move(made)).first->second;
  }

  static int team_size(const Split& s) {
    if (s.threaded) return 1;
    return static_cast<int>(std::min<std::int64_t>(s.chunks, omp_get_max_threads()));
  }

  // The weights in the layout of the full chunks' primitive (`which` names its conversion), and
  // of the last chunk's when that differs, reordered once per call.
  Tensor blocked_weights(const Split& s, const Tensor& weight, Conversion BatchPrimitives::*which) {
    const Conversion& full = (*s.full).*which;
    const std::int64_t tail_floats =
        tail_has_own_layout(s, which) ? ((*s.tail).*which).blocked_floats() : 0;
    const std::int64_t pad_floats = s.scratchpad_floats();
    Tensor copies = Tensor::empty(
        {std::max<std::int64_t>(pad_floats + full.blocked_floats() + tail_floats, 1)});
    float* pad = copies.data<float>();
    float* data = pad + pad_floats;
    const ThreadCountScope threads(s.threaded ? omp_get_max_threads() : 1);
    dnnl::stream stream(cpu_engine());
    full.blocked_copy(weight.data<float>(), data, pad, stream);
    if (tail_floats > 0)
      ((*s.tail).*which)
          .blocked_copy(weight.data<float>(), data + full.blocked_floats(), pad, stream);
    stream.wait();
    return copies;
  }

  static bool tail_has_own_layout(const Split& s, Conversion BatchPrimitives::*which) {
    if (!s.tail) return false;
    const Conversion& tail = (*s.tail).*which;
    return !tail.identity && !(tail.blocked == ((*s.full).*which).blocked);
  }

  memory weights_memory(const Split& s, std::int64_t chunk, const Tensor& copies,
                        const Tensor& weight, Conversion BatchPrimitives::*which) const {
    const Conversion& mine = s.primitives(chunk).*which;
    if (mine.identity)
      return memory(mine.plain, cpu_engine(), const_cast<float*>(weight.data<float>()));
    const bool tail = s.tail && chunk == s.chunks - 1 && tail_has_own_layout(s, which);
    float* data = const_cast<float*>(copies.data<float>()) + s.scratchpad_floats() +
                  (tail ? ((*s.full).*which).blocked_floats() : 0);
    return memory(mine.blocked, cpu_engine(), data);
  }

  static constexpr std::int64_t kMaxChunks = 8;
  static constexpr std::size_t kMaxPrimitiveSets = 6;

  ConvGeometry geometry_;
  std::int64_t out_channels_;
  bool winograd_;  // asked for; each primitive says what it got (describe)
  std::map<std::pair<std::int64_t, bool>, std::unique_ptr<BatchPrimitives>> primitives_;
  Split last_split_;
};

bool available() {
  return true;
}

std::shared_ptr<ConvolutionPlan> make_convolution_plan(const ConvGeometry& geometry,
                                                       std::int64_t out_channels, bool winograd) {
  try {
    return std::make_shared<ConvolutionPlan>(geometry, out_channels, winograd);
  } catch (const dnnl::error& e) {
    throw Error(std::string("Convolution: oneDNN has no kernel for input [") +
                std::to_string(geometry.batch) + ", " + std::to_string(geometry.channels) + ", " +
                std::to_string(geometry.height) + ", " + std::to_string(geometry.width) + "], " +
                kernels::describe(geometry.window) + " (" + e.what() +
                "); use the im2col algorithm (DLFS_CONV=im2col)");
  }
}

bool plan_matches(const ConvolutionPlan& plan, const ConvGeometry& geometry,
                  std::int64_t out_channels, bool winograd) {
  return plan.matches(geometry, out_channels, winograd);
}

std::string describe(const ConvolutionPlan& plan) {
  return plan.describe();
}

Tensor convolution_forward(ConvolutionPlan& plan, const Tensor& x, const Tensor& weight,
                           const ChunkEpilogue& after, bool write_output) {
  return plan.forward(x, weight, after, write_output);
}

void convolution_backward(ConvolutionPlan& plan, const Tensor& x, const Tensor& dy,
                          const Tensor& weight, Tensor* dx, Tensor& dweight) {
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
std::shared_ptr<ConvolutionPlan> make_convolution_plan(const ConvGeometry&, std::int64_t, bool) {
  no_onednn();
}
bool plan_matches(const ConvolutionPlan&, const ConvGeometry&, std::int64_t, bool) {
  return false;
}
std::string describe(const ConvolutionPlan&) {
  return "no oneDNN";
}
Tensor convolution_forward(ConvolutionPlan&, const Tensor&, const Tensor&, const ChunkEpilogue&,
                           bool) {
  no_onednn();
}
void convolution_backward(ConvolutionPlan&, const Tensor&, const Tensor&, const Tensor&, Tensor*,
                          Tensor&) {
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
