#include "dlfs/layers/layer.hpp"

namespace dlfs {

void Layer::to(const Device& device) {
  for (Parameter* p : parameters()) {
    p->value = p->value.to(device);
    if (p->grad.defined()) p->grad = p->grad.to(device);
  }
  for (Buffer* b : buffers()) b->value = b->value.to(device);
}

void Layer::to(DType dtype) {
  for (Parameter* p : parameters()) {
    p->value = p->value.to(dtype);
    if (p->grad.defined()) p->grad = p->grad.to(dtype);
  }
  // Integer buffers (BatchNorm's num_batches_tracked) keep their type.
  for (Buffer* b : buffers())
    if (b->value.dtype() == DType::Float32 || b->value.dtype() == DType::Float64)
      b->value = b->value.to(dtype);
}

void Layer::zero_grad() {
  for (Parameter* p : parameters())
    if (p->grad.defined()) p->grad.zero_();
}

const Tensor& single_input(const std::vector<Tensor>& inputs, const char* layer) {
  if (inputs.size() != 1)
    throw Error(std::string(layer) + " takes one input, got " + std::to_string(inputs.size()));
  if (!inputs[0].defined()) throw Error(std::string(layer) + ": input is undefined");
  return inputs[0];
}

void Layer::take_pooled_forward(const Tensor& argmax, const Shape& input_shape) {
  (void)argmax, (void)input_shape;
  throw Error(type() + " is not a max-pool: it cannot take a pooled forward's state");
}

}  // namespace dlfs
