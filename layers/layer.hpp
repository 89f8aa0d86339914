#pragma once
// The layer interface. A layer maps its inputs to one output in forward() and, in backward(),
// maps the gradient of the loss with respect to that output to the gradients with respect to
// each input, writing its parameters' gradients on the way (overwriting, not accumulating).
//
// Layers run on whichever device their inputs are on (parameters must be there too; see to()).
// The CPU path accepts float32 and float64 (gradient checks); the CUDA path float32.
#include <memory>
#include <string>
#include <vector>

#include "dlfs/kernels/channel_epilogue.hpp"
#include "dlfs/kernels/pooling.hpp"
#include "dlfs/runtime/parameter.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs {

enum class Mode { Train, Inference };

class Layer {
 public:
  virtual ~Layer() = default;

  // Short type name ("Convolution", "ReLU").
  virtual std::string type() const = 0;
  // Hyperparameters in one line for model summaries ("3->16, k3 s1 p1").
  virtual std::string describe() const { return ""; }

  // In Train mode a layer keeps what backward() needs; in Inference mode it keeps nothing.
  virtual Tensor forward(const std::vector<Tensor>& inputs, Mode mode) = 0;
  // One gradient per input of the last Train-mode forward, in the same order. An input that
  // takes no gradient (labels) gets an undefined Tensor.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;

  virtual std::vector<Parameter*> parameters() { return {}; }
  virtual std::vector<Buffer*> buffers() { return {}; }
  // False where this layer has no kernel for the device; the graph then runs it on the CPU.
  virtual bool supports(const Device& device) const {
    (void)device;
    return true;
  }

  // What lets the graph run an activation after the max-pool it feeds rather than before
  // (Graph::run): an element-wise, non-decreasing map f commutes with taking maxima,
  // max(f(a), f(b)) = f(max(a, b)), bit for bit, and with the pool's choice of maximum; the pool
  // then runs first, and f touches its smaller output.
  virtual bool commutes_with_max() const { return false; }
  // The window of a max-pooling layer; null for every other layer.
  virtual const kernels::PoolWindow* max_pool_window() const { return nullptr; }
  // Inference epilogues: a layer that is, in inference, a per-channel element-wise map adds
  // itself to the end of `epilogue` and says true (BatchNorm: its running statistics; ReLU: the
  // clamp); false where it is none, or cannot follow what `epilogue` holds.
  virtual bool join_epilogue(kernels::ChannelEpilogue& epilogue) const {
    (void)epilogue;
    return false;
  }
  // The layers after this one that Graph::run hands it, so that it finishes its own output as
  // it makes it: `epilogue` (possibly empty; inference only) and then, with `max_pool`, that
  // pool's maxima. The same bits as forward() and those layers one after the other, in fewer
  // passes; *unpooled_shape gets forward()'s output shape. In training, `pool_argmax` is given:
  // the layer keeps what its backward() needs, as a Train-mode forward() does, and the pool's
  // argmax goes there (for take_pooled_forward). Undefined where the layer cannot (the
  // default), and the graph runs the layers themselves.
  virtual Tensor forward_fused(const std::vector<Tensor>& inputs,
                               const kernels::ChannelEpilogue& epilogue,
                               const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                               Tensor* pool_argmax) {
    (void)inputs, (void)epilogue, (void)max_pool, (void)unpooled_shape, (void)pool_argmax;
    return Tensor();
  }
  // Training: the output with the ReLU that alone reads it already applied, made in the same
  // passes; until the next forward, backward() then takes the gradient of that ReLU's output
  // and applies the ReLU's mask itself. The same bits as forward() and the ReLU one after the
  // other, each way. Undefined where the layer cannot (the default): the graph runs the ReLU.
  virtual Tensor forward_with_relu(const std::vector<Tensor>& inputs) {
    (void)inputs;
    return Tensor();
  }
  // A max-pool whose producer pooled for it in training: the state its own Train-mode forward()
  // would have kept, the argmax and the shape of its input. Other layers refuse.
  virtual void take_pooled_forward(const Tensor& argmax, const Shape& input_shape);

  // Moves (or converts) parameters, their gradients and buffers.
  void to(const Device& device);
  void to(DType dtype);
  // Sets every parameter gradient to zero.
  void zero_grad();

  // Whether backward() must compute the gradients with respect to the inputs. The graph clears
  // it for a node that reads only graph inputs when their gradients are not wanted (training),
  // so the first convolution skips its backward-data pass; such a layer returns undefined
  // tensors for those gradients. A layer may ignore it and compute them anyway.
  void set_input_gradient_needed(bool needed) { input_gradient_needed_ = needed; }
  bool input_gradient_needed() const { return input_gradient_needed_; }

 private:
  bool input_gradient_needed_ = true;
};

using LayerPtr = std::unique_ptr<Layer>;

// Helpers for single-input layers.
const Tensor& single_input(const std::vector<Tensor>& inputs, const char* layer);

}  // namespace dlfs
